namespace Enclave.Policy.Labels;

/// <summary>Where a request's label came from.</summary>
public enum LabelSource
{
    /// <summary>The <c>Enclave-Classification</c> header.</summary>
    Header = 1,

    /// <summary>The join of the markings found in the messages.</summary>
    Markings,

    /// <summary>No header and no marking: the configured default.</summary>
    Default,

    /// <summary>Scanning could not finish (a bound or timeout was hit), so the label is the top of the lattice.</summary>
    Escalated,
}
