using Enclave.Core;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// Untrusted input was refused by the airlock. <see cref="Reason"/> names the check (and attack, where one is
/// recognised); <see cref="Detail"/> says what was wrong and where. Nothing was trusted or committed.
/// </summary>
public sealed class AirlockRejectedException : Exception, IEnclaveError<AirlockRejection>
{
    /// <summary>Creates a rejection.</summary>
    public AirlockRejectedException(AirlockRejection reason, string detail)
        : base(detail)
    {
        Reason = reason;
        Detail = detail;
    }

    /// <summary>Creates a rejection caused by another exception (a parse or crypto error).</summary>
    public AirlockRejectedException(AirlockRejection reason, string detail, Exception innerException)
        : base(detail, innerException)
    {
        Reason = reason;
        Detail = detail;
    }

    /// <summary>The check that failed.</summary>
    public AirlockRejection Reason { get; }

    /// <summary>What was wrong and where, e.g. "rollback: snapshot version 3 &lt; trusted 5".</summary>
    public string Detail { get; }
}
