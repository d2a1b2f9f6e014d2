namespace Enclave.Core;

/// <summary>
/// An expected failure of an Enclave component (untrusted input refused, state missing or newer than the binary, a
/// check that did not pass), with a reason that an operator, a test and the CLI's exit-code table all match. Each
/// assembly's exceptions form one family: every exception of it implements <see cref="IEnclaveError{TReason}"/> with
/// that assembly's reason enum (see "Errors" in docs/architecture.md). A bug is a guard exception instead
/// (<see cref="ArgumentNullException"/>, <see cref="InvalidOperationException"/>) and implements nothing.
/// </summary>
public interface IEnclaveError
{
    /// <summary>Why it failed: a value of the family's reason enum.</summary>
    Enum Reason { get; }
}

/// <summary>An <see cref="IEnclaveError"/> whose reason is a value of <typeparamref name="TReason"/>.</summary>
/// <typeparam name="TReason">The family's reason enum.</typeparam>
public interface IEnclaveError<TReason> : IEnclaveError
    where TReason : struct, Enum
{
    /// <summary>Why it failed.</summary>
    new TReason Reason { get; }

    /// <inheritdoc />
    Enum IEnclaveError.Reason => Reason;
}
