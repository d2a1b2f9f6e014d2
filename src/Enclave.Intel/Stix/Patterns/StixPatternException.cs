namespace Enclave.Intel.Stix.Patterns;

/// <summary>A STIX pattern does not follow the grammar of STIX 2.1 section 9 (or exceeds a bound); the message names the position.</summary>
public sealed class StixPatternException : Exception
{
    public StixPatternException()
    {
    }

    public StixPatternException(string message)
        : base(message)
    {
    }

    public StixPatternException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public StixPatternException(string message, int position)
        : base($"{message} at character {position + 1}")
    {
        Position = position;
    }

    /// <summary>Zero-based character offset in the pattern where the problem was found.</summary>
    public int Position { get; }
}
