namespace Enclave.OperatorConsole.Backend;

/// <summary>An action the console refused or could not take; the message says why and what to do, and nothing was changed.</summary>
public sealed class ConsoleActionException : Exception
{
    public ConsoleActionException(string message, bool forbidden = false)
        : base(message)
    {
        Forbidden = forbidden;
    }

    public ConsoleActionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ConsoleActionException()
    {
    }

    /// <summary>The actor's roles do not allow the action (the console answers 403).</summary>
    public bool Forbidden { get; }
}
