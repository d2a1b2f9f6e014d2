namespace Enclave.Core.Audit;

/// <summary>A signed checkpoint as published: the whole signed note and the tree size it commits to.</summary>
public sealed record SignedCheckpoint
{
    public required long Size { get; init; }

    public required string Note { get; init; }
}
