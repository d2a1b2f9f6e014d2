using Enclave.Retrieval.Extraction;

namespace Enclave.Server.Retrieval;

/// <summary>The <c>Retrieval</c> section: how uploaded documents are read, cut and embedded, and how much a search returns.</summary>
internal sealed record RetrievalOptions
{
    /// <summary>The embedding model for documents and queries; default the first embedding model the catalog serves.</summary>
    public string? EmbeddingModel { get; init; }

    /// <summary>Longest chunk, in characters (default 800, under the 256 tokens all-MiniLM-L6-v2 reads).</summary>
    public int ChunkChars { get; init; } = 800;

    /// <summary>Characters of a chunk repeated at the start of the next (default 160).</summary>
    public int ChunkOverlapChars { get; init; } = 160;

    /// <summary>Texts per embedding request (default 64).</summary>
    public int EmbeddingBatch { get; init; } = 64;

    /// <summary>Most results one search returns (<c>max_num_results</c> is capped here; default 50, as OpenAI's).</summary>
    public int MaxResults { get; init; } = 50;

    /// <summary>Chunks from which a store's resident index is an IVF index rather than exact (default 100,000).</summary>
    public int IvfThreshold { get; init; } = 100_000;

    /// <summary>Lists of an IVF index; 0 (default) for the square root of the chunks held.</summary>
    public int IvfLists { get; init; }

    /// <summary>Lists an IVF search probes (default 32; more lists are probed while too few chunks the clearance admits were found).</summary>
    public int IvfProbes { get; init; } = 32;

    /// <summary>Most documents one <c>dataset</c> bundle may carry (default 10,000).</summary>
    public int DatasetMaxDocuments { get; init; } = 10_000;

    /// <summary>Bounds on extraction (file size 32 MiB, 2,000 PDF pages, 8 Mi characters of text).</summary>
    public ExtractionOptions Extraction { get; init; } = new();

    /// <summary>Every problem with these options (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ChunkChars < 16)
        {
            problems.Add($"Retrieval:ChunkChars is {ChunkChars}; it must be at least 16");
        }

        if (ChunkOverlapChars < 0 || ChunkOverlapChars >= ChunkChars / 2)
        {
            problems.Add($"Retrieval:ChunkOverlapChars is {ChunkOverlapChars}; it must be from 0 to less than half of ChunkChars");
        }

        if (EmbeddingBatch is < 1 or > 2048)
        {
            problems.Add($"Retrieval:EmbeddingBatch is {EmbeddingBatch}; it must be from 1 to 2048");
        }

        if (MaxResults is < 1 or > 1000)
        {
            problems.Add($"Retrieval:MaxResults is {MaxResults}; it must be from 1 to 1000");
        }

        if (IvfThreshold < 1)
        {
            problems.Add($"Retrieval:IvfThreshold is {IvfThreshold}; it must be at least 1");
        }

        if (IvfLists is < 0 or > 1_000_000)
        {
            problems.Add($"Retrieval:IvfLists is {IvfLists}; it must be from 0 (the square root of the chunks) to 1000000");
        }

        if (IvfProbes < 1)
        {
            problems.Add($"Retrieval:IvfProbes is {IvfProbes}; it must be at least 1");
        }

        if (DatasetMaxDocuments is < 1 or > 1_000_000)
        {
            problems.Add($"Retrieval:DatasetMaxDocuments is {DatasetMaxDocuments}; it must be from 1 to 1000000");
        }

        return problems;
    }
}
