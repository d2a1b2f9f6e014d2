namespace Enclave.Retrieval.Chunking;

/// <summary>
/// How documents are cut. The defaults keep a chunk of English prose under the 256 tokens all-MiniLM-L6-v2 takes
/// (about 4 characters per token), with a fifth of each chunk repeated at the start of the next.
/// </summary>
public sealed record ChunkerOptions
{
    /// <summary>Longest chunk, in characters.</summary>
    public int MaxChars { get; init; } = 800;

    /// <summary>Characters of a chunk repeated at the start of the next one; less than <see cref="MaxChars"/>.</summary>
    public int OverlapChars { get; init; } = 160;

    /// <summary>Most chunks one document may make.</summary>
    public int MaxChunks { get; init; } = 100_000;

    internal void Validate()
    {
        if (MaxChars < 16 || OverlapChars < 0 || OverlapChars >= MaxChars / 2 || MaxChunks < 1)
        {
            throw new ArgumentException($"invalid chunker options: MaxChars {MaxChars} must be at least 16, OverlapChars {OverlapChars} from 0 to less than half of it, MaxChunks {MaxChunks} at least 1");
        }
    }
}
