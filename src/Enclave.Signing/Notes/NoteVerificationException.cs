using Enclave.Core;

namespace Enclave.Signing.Notes;

/// <summary>A signed note was rejected; <see cref="Reason"/> says why and the message says where.</summary>
public sealed class NoteVerificationException : Exception, IEnclaveError<NoteRejection>
{
    /// <summary>Creates the exception.</summary>
    public NoteVerificationException(NoteRejection reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Why the note was rejected.</summary>
    public NoteRejection Reason { get; }
}
