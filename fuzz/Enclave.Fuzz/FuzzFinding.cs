namespace Enclave.Fuzz;

/// <summary>A property a harness checks beyond "does not crash" failed (e.g. canonical JSON is not idempotent).</summary>
internal sealed class FuzzFindingException : Exception
{
    public FuzzFindingException()
    {
    }

    public FuzzFindingException(string message)
        : base(message)
    {
    }

    public FuzzFindingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
