namespace Enclave.Airlock.Tuf;

/// <summary>Typed access to parsed metadata fields; every violation is a <see cref="AirlockRejection.Malformed"/> rejection naming where.</summary>
internal static class TufFields
{
    public static Dictionary<string, object?> Object(object? value, string where) =>
        value as Dictionary<string, object?> ?? throw Bad($"{where} is not an object");

    public static List<object?> Array(object? value, string where) =>
        value as List<object?> ?? throw Bad($"{where} is not an array");

    public static object? Required(Dictionary<string, object?> obj, string name, string where) =>
        obj.TryGetValue(name, out var value) ? value : throw Bad($"{where} has no \"{name}\"");

    public static string String(Dictionary<string, object?> obj, string name, string where) =>
        Required(obj, name, where) as string ?? throw Bad($"{where}.{name} is not a string");

    public static long Integer(Dictionary<string, object?> obj, string name, string where) =>
        Required(obj, name, where) is long n ? n : throw Bad($"{where}.{name} is not an integer");

    public static int PositiveInt(Dictionary<string, object?> obj, string name, string where)
    {
        var n = Integer(obj, name, where);
        return n is >= 1 and <= int.MaxValue ? (int)n : throw Bad($"{where}.{name} must be an integer from 1 to {int.MaxValue}, got {n}");
    }

    public static bool Boolean(Dictionary<string, object?> obj, string name, string where, bool? fallback = null)
    {
        if (!obj.TryGetValue(name, out var value) && fallback is { } f)
        {
            return f;
        }

        return value is bool b ? b : throw Bad($"{where}.{name} is not a boolean");
    }

    public static AirlockRejectedException Bad(string what) =>
        new(AirlockRejection.Malformed, $"malformed metadata: {what}");
}
