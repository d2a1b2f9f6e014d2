using Enclave.Core;

namespace Enclave.Intel.Stix;

/// <summary>A STIX bundle was rejected as a whole: <see cref="Reason"/> says why, the message says where.</summary>
public sealed class StixRejectedException : Exception, IEnclaveError<StixRejection>
{
    public StixRejectedException()
    {
    }

    public StixRejectedException(string message)
        : base(message)
    {
    }

    public StixRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StixRejectedException(StixRejection reason, string detail)
        : base($"STIX bundle rejected ({reason}): {detail}")
    {
        Reason = reason;
    }

    public StixRejectedException(StixRejection reason, string detail, Exception innerException)
        : base($"STIX bundle rejected ({reason}): {detail}", innerException)
    {
        Reason = reason;
    }

    public StixRejection Reason { get; }
}
