namespace Enclave.Signing.Notes;

/// <summary>Bounds applied when opening an untrusted signed note.</summary>
public sealed record NoteLimits
{
    /// <summary>The smallest signature limit allowed: c2sp.org/signed-note requires accepting at least 16.</summary>
    public const int MinSignatures = 16;

    /// <summary>Defaults: 1 MiB and 100 signature lines (the limit of Go's note package).</summary>
    public static NoteLimits Default { get; } = new();

    /// <summary>Largest note accepted, in bytes, text and signatures together.</summary>
    public int MaxNoteBytes { get; init; } = 1024 * 1024;

    /// <summary>Most signature lines accepted, known and unknown keys together; at least <see cref="MinSignatures"/>.</summary>
    public int MaxSignatures { get; init; } = 100;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNoteBytes, 1, nameof(MaxNoteBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSignatures, MinSignatures, nameof(MaxSignatures));
    }
}
