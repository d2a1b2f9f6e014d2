namespace Enclave.Intel.Indicators;

/// <summary>How far Enclave can evaluate an indicator.</summary>
public enum IndicatorStatus
{
    /// <summary>Every comparison is on a property Enclave observes (hashes, addresses, domains, URLs, e-mail addresses, user ids, model and artifact digests).</summary>
    Evaluable,

    /// <summary>Some comparisons are on properties Enclave's own events never carry; those are true only in an observed-data bundle that has them.</summary>
    Partial,

    /// <summary>No comparison is on a property Enclave observes: matched only against observed-data bundles (<c>enclave intel test --observed</c>).</summary>
    ObservedDataOnly,

    /// <summary>Cannot be evaluated at all (not a STIX pattern, a syntax error, an invalid regex); never matches.</summary>
    NotEvaluable,
}
