using Enclave.Core;

namespace Enclave.Airlock.Bundles;

/// <summary>
/// A bundle archive was refused. By the time this is thrown the quarantine directory has been deleted,
/// so nothing of the bundle remains.
/// </summary>
public sealed class BundleRejectedException : Exception, IEnclaveError<BundleRejection>
{
    public BundleRejectedException(BundleRejection reason, string detail)
        : base($"bundle rejected ({reason}): {detail}; nothing was imported")
    {
        Reason = reason;
        Detail = detail;
    }

    /// <summary>The rejection, as a value to match on.</summary>
    public BundleRejection Reason { get; }

    /// <summary>What was wrong and where, for a person.</summary>
    public string Detail { get; }
}
