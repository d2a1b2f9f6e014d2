namespace Enclave.Airlock.Scanners;

/// <summary>What one scanner found in one file. No findings means clean.</summary>
public sealed record ScanResult
{
    /// <summary>The scanner's name.</summary>
    public required string Scanner { get; init; }

    /// <summary>The file scanned.</summary>
    public required string Path { get; init; }

    /// <summary>Each problem: what was wrong, where, and what to do.</summary>
    public required IReadOnlyList<string> Findings { get; init; }

    /// <summary>True when nothing was found.</summary>
    public bool IsClean => Findings.Count == 0;

    internal static ScanResult Of(string scanner, string path, IReadOnlyList<string> findings) =>
        new() { Scanner = scanner, Path = path, Findings = findings };
}
