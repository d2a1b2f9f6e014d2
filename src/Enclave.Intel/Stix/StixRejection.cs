namespace Enclave.Intel.Stix;

/// <summary>Why a STIX bundle (or an observed-data file) was rejected as a whole; an operator and a test both match it.</summary>
public enum StixRejection
{
    /// <summary>The input is larger than <see cref="StixReaderOptions.MaxBytes"/>.</summary>
    TooLarge,

    /// <summary>The bytes are not valid UTF-8.</summary>
    InvalidUtf8,

    /// <summary>The JSON is malformed or truncated.</summary>
    MalformedJson,

    /// <summary>An object has the same property twice.</summary>
    DuplicateKey,

    /// <summary>Nesting deeper than <see cref="StixReaderOptions.MaxDepth"/>.</summary>
    TooDeep,

    /// <summary>A string longer than <see cref="StixReaderOptions.MaxStringLength"/>.</summary>
    StringTooLong,

    /// <summary>More objects than <see cref="StixReaderOptions.MaxObjects"/>.</summary>
    TooManyObjects,

    /// <summary>The document is not a STIX 2.1 bundle (no <c>type: bundle</c>, no <c>objects</c> array).</summary>
    NotABundle,
}
