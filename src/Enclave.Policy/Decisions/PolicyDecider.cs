using Enclave.Policy.Labels;

namespace Enclave.Policy.Decisions;

/// <summary>
/// Decides a request from labels alone: pure, synchronous, no I/O. Allows only when the user's clearance and
/// the model's label dominate the request label and at least one backend's accreditation dominates it in an
/// allowed jurisdiction. The returned backend list contains only such backends, so a route chosen from it, or a
/// fail-over within it, never sends data to a backend that is not accredited for it.
/// </summary>
public sealed class PolicyDecider
{
    private readonly LabelScheme _scheme;
    private readonly JurisdictionPolicy _jurisdictions;

    public PolicyDecider(LabelScheme scheme, JurisdictionPolicy jurisdictions)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(jurisdictions);
        _scheme = scheme;
        _jurisdictions = jurisdictions;
    }

    /// <summary>Decides one request; every reason for a denial or an excluded backend is reported.</summary>
    public PolicyDecision Decide(PolicyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(request.Candidates);
        SecurityLabel label = request.RequestLabel;
        List<PolicyReason>? reasons = null;

        if (!request.UserClearance.Dominates(label))
        {
            (reasons ??= []).Add(new PolicyReason(
                PolicyRules.Clearance,
                $"denied: your clearance does not dominate the request label {Format(label)}; ask for a clearance covering it or lower the request's classification"));
        }

        if (!request.ModelLabel.Dominates(label))
        {
            (reasons ??= []).Add(new PolicyReason(
                PolicyRules.ModelLabel,
                $"denied: the model is labelled {Format(request.ModelLabel)}, which does not dominate the request label {Format(label)}; choose a model imported at or above it"));
        }

        var backends = new List<BackendCandidate>(request.Candidates.Count);
        foreach (BackendCandidate b in request.Candidates)
        {
            bool ok = true;
            if (!b.Accreditation.Dominates(label))
            {
                ok = false;
                (reasons ??= []).Add(new PolicyReason(
                    PolicyRules.BackendAccreditation,
                    $"backend '{b.Id}' excluded: its accreditation {Format(b.Accreditation)} does not dominate the request label {Format(label)}",
                    b.Id));
            }

            if (!_jurisdictions.IsAllowed(label, b.Jurisdiction))
            {
                ok = false;
                (reasons ??= []).Add(new PolicyReason(
                    PolicyRules.Jurisdiction,
                    $"backend '{b.Id}' excluded: jurisdiction '{b.Jurisdiction}' is not allowed for {_scheme.Levels[Math.Min(label.Level, _scheme.Levels.Count - 1)].Name} data",
                    b.Id));
            }

            if (ok)
            {
                backends.Add(b);
            }
        }

        if (backends.Count == 0)
        {
            (reasons ??= []).Add(new PolicyReason(
                PolicyRules.NoBackend,
                request.Candidates.Count == 0
                    ? "denied: the model has no backends"
                    : $"denied: none of the model's {request.Candidates.Count} backends may process {Format(label)} data"));
        }

        bool allowed = backends.Count > 0
            && request.UserClearance.Dominates(label)
            && request.ModelLabel.Dominates(label);
        return new PolicyDecision
        {
            Allowed = allowed,
            Reasons = (IReadOnlyList<PolicyReason>?)reasons ?? [],
            Backends = allowed ? backends : [],
        };
    }

    private string Format(SecurityLabel label) =>
        _scheme.Contains(label) ? _scheme.FormatBanner(label) : $"(label outside the scheme, level {label.Level})";
}
