namespace Enclave.Airlock.Repository;

/// <summary>How many of the keys a metadata file needs have signed it.</summary>
public sealed record RoleSignatureStatus
{
    /// <summary>The metadata file, e.g. <c>model.json</c> or <c>2.root.json</c>.</summary>
    public required string File { get; init; }

    /// <summary>Whose keys are counted, e.g. <c>model</c>, <c>root v1</c> (the old root of a rotation) or <c>root v2</c>.</summary>
    public required string SignedBy { get; init; }

    /// <summary>The metadata version.</summary>
    public required int Version { get; init; }

    /// <summary>Distinct authorised keys whose signature verifies.</summary>
    public required int Valid { get; init; }

    /// <summary>Signatures required.</summary>
    public required int Threshold { get; init; }

    /// <summary>Authorised key IDs that have not (validly) signed yet.</summary>
    public required IReadOnlyList<string> MissingKeyIds { get; init; }

    /// <summary>Whether the threshold is met.</summary>
    public bool IsComplete => Valid >= Threshold;
}
