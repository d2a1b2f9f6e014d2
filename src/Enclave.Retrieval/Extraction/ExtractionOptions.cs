namespace Enclave.Retrieval.Extraction;

/// <summary>Bounds on what one uploaded document may cost to extract.</summary>
public sealed record ExtractionOptions
{
    /// <summary>Largest file accepted, in bytes (default 32 MiB).</summary>
    public long MaxFileBytes { get; init; } = 32L * 1024 * 1024;

    /// <summary>Most pages read from a PDF.</summary>
    public int MaxPages { get; init; } = 2_000;

    /// <summary>Longest extracted text, in characters (default 8 Mi).</summary>
    public int MaxTextChars { get; init; } = 8 * 1024 * 1024;
}
