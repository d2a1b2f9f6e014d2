namespace Enclave.Airlock.Scanners;

/// <summary>A scanned file is malformed or exceeds a bound; the scanner turns it into a finding.</summary>
internal sealed class ScanFormatException : Exception
{
    public ScanFormatException()
    {
    }

    public ScanFormatException(string message)
        : base(message)
    {
    }

    public ScanFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
