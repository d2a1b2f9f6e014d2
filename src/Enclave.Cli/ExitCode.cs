namespace Enclave.Cli;

/// <summary>Process exit codes of <c>enclave</c>; scripts can rely on them.</summary>
public enum ExitCode
{
    /// <summary>It worked.</summary>
    Success = 0,

    /// <summary>An unexpected failure; the message says what happened.</summary>
    Failure = 1,

    /// <summary>The command line was wrong (unknown option, missing argument).</summary>
    Usage = 2,

    /// <summary>The input (a file, stdin, an option value) was invalid; nothing was changed.</summary>
    InvalidInput = 3,

    /// <summary>The data directory, ledger, entry or file does not exist.</summary>
    NotFound = 4,

    /// <summary>Verification failed: a signature, a proof, a tile or an entry does not check out.</summary>
    VerificationFailed = 5,

    /// <summary>Another process writes the data directory.</summary>
    Locked = 6,

    /// <summary>Storage failed while writing; what was not acknowledged was not written.</summary>
    StorageFailed = 7,

    /// <summary>The server refused the credentials or the role does not allow the action.</summary>
    Denied = 8,

    /// <summary>The enclave server could not be reached or is not ready.</summary>
    Unavailable = 9,
}
