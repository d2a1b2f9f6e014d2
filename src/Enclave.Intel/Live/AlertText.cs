namespace Enclave.Intel.Live;

/// <summary>Text for alerts: control characters (from a feed or a request) replaced, cut to a bound.</summary>
internal static class AlertText
{
    public static string Clip(string s, int max)
    {
        var clean = s.Any(char.IsControl) ? string.Concat(s.Select(c => char.IsControl(c) ? '?' : c)) : s;
        return clean.Length <= max ? clean : clean[..(max - 1)] + "…";
    }
}
