using Enclave.Core;

namespace Enclave.Intel.Upgrades;

/// <summary>Why an upgrade step was refused or failed; an operator and a test both match on it.</summary>
public enum UpgradeFailure
{
    /// <summary>No activated update bundle of that version or import.</summary>
    NotFound,

    /// <summary>The update bundle carries no CycloneDX SBOM attestation, so what it fixes cannot be known.</summary>
    NoSbom,

    /// <summary>The release's version is not a safe folder name.</summary>
    InvalidVersion,

    /// <summary>The update carries no single release archive, or the archive is malformed or holds what an installer refuses.</summary>
    InvalidRelease,

    /// <summary>A file of the release differs from what the airlock verified (changed, missing or added).</summary>
    Tampered,

    /// <summary>The release did not pass its self-check (<c>enclave version --json</c> in its folder).</summary>
    SelfCheckFailed,

    /// <summary>Reading or writing the install root failed.</summary>
    DiskError,

    /// <summary>Nothing is staged.</summary>
    NothingStaged,

    /// <summary>The staged release is not the one asked for.</summary>
    NotStaged,

    /// <summary>No previous release to roll back to.</summary>
    NoPrevious,

    /// <summary>The release is already the current one.</summary>
    AlreadyCurrent,
}

/// <summary>An upgrade step that was refused or failed; the installed release is unchanged.</summary>
public sealed class UpgradeException : Exception, IEnclaveError<UpgradeFailure>
{
    public UpgradeException(UpgradeFailure reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Reason = reason;
    }

    public UpgradeException()
        : this(UpgradeFailure.DiskError, "upgrade failed")
    {
    }

    public UpgradeException(string message)
        : this(UpgradeFailure.DiskError, message)
    {
    }

    public UpgradeException(string message, Exception inner)
        : this(UpgradeFailure.DiskError, message, inner)
    {
    }

    /// <summary>What went wrong.</summary>
    public UpgradeFailure Reason { get; }

    /// <summary>The reason as the ledger and the API write it (<c>self-check-failed</c>).</summary>
    public string Code => ToCode(Reason);

    /// <summary>Kebab case of a reason.</summary>
    public static string ToCode(UpgradeFailure reason) => reason switch
    {
        UpgradeFailure.NotFound => "not-found",
        UpgradeFailure.NoSbom => "no-sbom",
        UpgradeFailure.InvalidVersion => "invalid-version",
        UpgradeFailure.InvalidRelease => "invalid-release",
        UpgradeFailure.Tampered => "tampered",
        UpgradeFailure.SelfCheckFailed => "self-check-failed",
        UpgradeFailure.DiskError => "disk-error",
        UpgradeFailure.NothingStaged => "nothing-staged",
        UpgradeFailure.NotStaged => "not-staged",
        UpgradeFailure.NoPrevious => "no-previous",
        _ => "already-current",
    };
}
