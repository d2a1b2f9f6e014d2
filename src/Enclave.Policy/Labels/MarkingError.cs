namespace Enclave.Policy.Labels;

/// <summary>Why a classification marking was rejected.</summary>
public enum MarkingError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The marking was empty or only whitespace.</summary>
    Empty,

    /// <summary>The marking is longer than the scheme's bound.</summary>
    TooLong,

    /// <summary>The marking does not follow the banner or portion grammar.</summary>
    Malformed,

    /// <summary>The level (or its portion abbreviation) is not in the scheme.</summary>
    UnknownLevel,

    /// <summary>A compartment is not in the scheme.</summary>
    UnknownCompartment,

    /// <summary>A REL TO code is not in the scheme.</summary>
    UnknownReleasability,

    /// <summary>A compartment or code appears twice, or two releasability caveats are given.</summary>
    Duplicate,
}
