using System.Diagnostics.CodeAnalysis;

namespace Enclave.Intel.Alerts;

/// <summary>
/// The wire names of <see cref="AlertKind"/>, <see cref="AlertSeverity"/> and <see cref="AlertState"/>: what the ledger,
/// the store, the admin API and the CLI use (<c>intel</c>, <c>critical</c>, <c>false-positive</c>).
/// </summary>
public static class AlertNames
{
    /// <summary>The wire name of a kind.</summary>
    public static string Name(this AlertKind kind) => kind switch
    {
        AlertKind.Intel => "intel",
        AlertKind.Detection => "detection",
        AlertKind.Insider => "insider",
        AlertKind.Vulnerability => "vulnerability",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown alert kind"),
    };

    /// <summary>The wire name of a severity.</summary>
    public static string Name(this AlertSeverity severity) => severity switch
    {
        AlertSeverity.Info => "info",
        AlertSeverity.Low => "low",
        AlertSeverity.Medium => "medium",
        AlertSeverity.High => "high",
        AlertSeverity.Critical => "critical",
        _ => throw new ArgumentOutOfRangeException(nameof(severity), severity, "unknown alert severity"),
    };

    /// <summary>The wire name of a state.</summary>
    public static string Name(this AlertState state) => state switch
    {
        AlertState.Open => "open",
        AlertState.Acknowledged => "acknowledged",
        AlertState.Resolved => "resolved",
        AlertState.FalsePositive => "false-positive",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "unknown alert state"),
    };

    /// <summary>Every kind's wire name.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [.. Enum.GetValues<AlertKind>().Select(k => k.Name())];

    /// <summary>Every severity's wire name, lowest first.</summary>
    public static IReadOnlyList<string> Severities { get; } = [.. Enum.GetValues<AlertSeverity>().Select(s => s.Name())];

    /// <summary>Every state's wire name.</summary>
    public static IReadOnlyList<string> States { get; } = [.. Enum.GetValues<AlertState>().Select(s => s.Name())];

    /// <summary>Reads a kind's wire name (exact, lower-case).</summary>
    public static bool TryParseKind(string? text, out AlertKind kind) => TryParse(text, out kind, Name);

    /// <summary>Reads a severity's wire name (exact, lower-case).</summary>
    public static bool TryParseSeverity(string? text, out AlertSeverity severity) => TryParse(text, out severity, Name);

    /// <summary>Reads a state's wire name (exact, lower-case).</summary>
    public static bool TryParseState(string? text, out AlertState state) => TryParse(text, out state, Name);

    private static bool TryParse<T>(string? text, [MaybeNullWhen(false)] out T value, Func<T, string> name)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(name(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
