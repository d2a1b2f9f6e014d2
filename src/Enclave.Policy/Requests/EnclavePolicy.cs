using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Policy.Configuration;
using Enclave.Policy.Decisions;
using Enclave.Policy.Egress;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Microsoft.Extensions.Configuration;

namespace Enclave.Policy.Requests;

/// <summary>
/// The policy every API request passes, whichever backend serves it: the request's label (header, markings, default),
/// the caller's clearance, the model's label, each backend's accreditation and jurisdiction, and the egress guard for
/// backends that leave the enclave. Built once at start-up from configuration and the routes of the model catalog
/// (<see cref="IRouteCatalog"/>, which the server's catalog implements; models activated later are added by
/// <see cref="Admit"/>); deciding is synchronous and does no I/O. The server only adapts HTTP to it.
/// </summary>
public sealed class EnclavePolicy
{
    /// <summary>Rule of a malformed <c>Enclave-Classification</c> header.</summary>
    public const string LabelHeaderRule = "policy.label-header";

    private const int MaxCachedClearances = 4096;

    private readonly RequestLabelExtractor _extractor;
    private readonly PolicyDecider _decider;
    private readonly EgressGuard _guard;
    private readonly SecurityLabel _localAccreditation;
    private readonly Lock _admitLock = new();
    private volatile FrozenDictionary<string, ModelPolicy> _models;
    private readonly FrozenDictionary<string, EgressAction> _routes;
    private readonly EgressAction _defaultAction;
    private readonly int _maxStrings;
    private readonly ConcurrentDictionary<string, Parsed> _clearances = new(StringComparer.Ordinal);

    private EnclavePolicy(
        LabelScheme scheme,
        SecurityLabel defaultLabel,
        RequestLabelExtractor extractor,
        PolicyDecider decider,
        EgressGuard guard,
        SecurityLabel localAccreditation,
        FrozenDictionary<string, ModelPolicy> models,
        FrozenDictionary<string, EgressAction> routes,
        EgressAction defaultAction,
        int maxStrings)
    {
        Scheme = scheme;
        DefaultRequestLabel = defaultLabel;
        _extractor = extractor;
        _decider = decider;
        _guard = guard;
        _localAccreditation = localAccreditation;
        _models = models;
        _routes = routes;
        _defaultAction = defaultAction;
        _maxStrings = maxStrings;
    }

    /// <summary>The label scheme in force.</summary>
    public LabelScheme Scheme { get; }

    /// <summary>The label of a request with no header and no marking.</summary>
    public SecurityLabel DefaultRequestLabel { get; }

    /// <summary>Builds the policy from the <c>Policy</c> section and the catalog's model and backend labels.</summary>
    /// <exception cref="PolicyConfigurationException">Every problem found.</exception>
    public static EnclavePolicy Create(IConfiguration configuration, IRouteCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        PolicySettings settings;
        try
        {
            settings = configuration.GetSection("Policy").Get<PolicySettings>() ?? new PolicySettings();
        }
        catch (InvalidOperationException ex)
        {
            throw new PolicyConfigurationException([$"Policy: {ex.Message}"]);
        }

        return Create(settings, catalog);
    }

    /// <summary>Builds the policy from settings and the catalog's model and backend labels.</summary>
    /// <exception cref="PolicyConfigurationException">Every problem found.</exception>
    public static EnclavePolicy Create(PolicySettings settings, IRouteCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(catalog);
        var problems = new List<string>();
        LabelScheme scheme = LabelScheme.Default;
        if (settings.Labels is { } labels)
        {
            try
            {
                scheme = new LabelScheme(
                    labels.Levels is { } levels ? [.. levels.Select(l => new LabelLevel(l.Name, l.Abbreviation))] : LabelScheme.Default.Levels,
                    labels.Compartments ?? LabelScheme.Default.Compartments,
                    labels.ReleasabilityCodes ?? LabelScheme.Default.ReleasabilityCodes,
                    labels.Owner ?? LabelScheme.Default.Owner);
            }
            catch (ArgumentException ex)
            {
                throw new PolicyConfigurationException([$"Policy:Labels: {ex.Message}"]);
            }
        }

        SecurityLabel Parse(string? marking, SecurityLabel fallback, string where) => ParseOrNote(scheme, marking, fallback, where, problems);

        var defaultLabel = Parse(settings.DefaultRequestLabel, scheme.Lowest, "Policy:DefaultRequestLabel");
        var local = Parse(settings.LocalAccreditation, scheme.Highest, "Policy:LocalAccreditation");
        var maxEgress = Parse(settings.Egress?.MaxEgressLabel, scheme.Lowest, "Policy:Egress:MaxEgressLabel");

        JurisdictionPolicy? jurisdictions = null;
        try
        {
            var map = settings.Jurisdictions is { } configured
                ? configured.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)(kv.Value ?? []), StringComparer.Ordinal)
                : scheme.Levels.ToDictionary(l => l.Name, _ => (IReadOnlyList<string>)[RouteBackend.LocalJurisdiction], StringComparer.Ordinal);
            jurisdictions = new JurisdictionPolicy(scheme, map);
        }
        catch (ArgumentException ex)
        {
            problems.Add($"Policy:Jurisdictions: {ex.Message}");
        }

        var models = new Dictionary<string, ModelPolicy>(StringComparer.Ordinal);
        var backendNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var route in catalog.List())
        {
            backendNames.UnionWith(route.Backends.Select(b => b.Name));
            models[route.Id] = BuildModel(route, scheme, local, problems);
        }

        var egress = settings.Egress ?? new EgressSettings();
        foreach (var name in egress.Routes?.Keys ?? [])
        {
            if (!backendNames.Contains(name))
            {
                problems.Add($"Policy:Egress:Routes:{name}: no backend of that name serves a model");
            }
        }

        EgressGuard? guard = null;
        try
        {
            guard = new EgressGuard(scheme, new EgressOptions
            {
                MaxEgressLabel = maxEgress,
                PiiDetectors = egress.PiiDetectors is { } pii ? [.. pii.Select(d => new PiiDetector(d.RuleId, d.Pattern))] : EgressOptions.DefaultPiiDetectors,
            });
        }
        catch (ArgumentException ex)
        {
            problems.Add($"Policy:Egress: {ex.Message}");
        }

        if (problems.Count > 0)
        {
            throw new PolicyConfigurationException(problems);
        }

        var extraction = new LabelExtractionOptions { DefaultLabel = defaultLabel };
        return new EnclavePolicy(
            scheme,
            defaultLabel,
            new RequestLabelExtractor(scheme, extraction),
            new PolicyDecider(scheme, jurisdictions!),
            guard!,
            local,
            models.ToFrozenDictionary(StringComparer.Ordinal),
            (egress.Routes ?? new Dictionary<string, EgressAction>()).ToFrozenDictionary(StringComparer.Ordinal),
            egress.Action ?? EgressAction.Block,
            extraction.MaxMessages);
    }

    /// <summary>Each served model (by name) with its label and its backends: accreditation, jurisdiction, whether it leaves the enclave.</summary>
    public IReadOnlyList<(string Model, SecurityLabel Label, IReadOnlyList<BackendCandidate> Backends)> Routes() =>
        [.. _models.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.Label, (IReadOnlyList<BackendCandidate>)kv.Value.Candidates))];

    /// <summary>The model's label, or null for a model the catalog does not hold.</summary>
    public SecurityLabel? ModelLabel(string model) => _models.TryGetValue(model, out var m) ? m.Label : null;

    /// <summary>The action of the egress route to <paramref name="backend"/>.</summary>
    public EgressAction EgressActionFor(string backend) => _routes.TryGetValue(backend, out var a) ? a : _defaultAction;

    /// <summary>The caller's clearance from its <see cref="EnclaveClaims.Clearance"/> claims (the meet of several); absent is the lowest level.</summary>
    /// <returns>The label, and a problem when a claim is not a valid marking (the caller is then denied).</returns>
    public (SecurityLabel Clearance, string? Problem) ClearanceOf(ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        SecurityLabel? clearance = null;

        // The claims FindAll(type) would give (the same case-insensitive match, identity by identity), without its
        // closure and iterators: every request asks twice (MaySee, Evaluate).
        foreach (var identity in user.Identities)
        {
            if (identity is null)
            {
                continue;
            }

            foreach (var claim in identity.Claims)
            {
                if (!string.Equals(claim.Type, EnclaveClaims.Clearance, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var parsed = ParseClearance(claim.Value);
                if (parsed.Problem is not null)
                {
                    return (Scheme.Lowest, parsed.Problem);
                }

                clearance = clearance is { } c ? c.Meet(parsed.Label) : parsed.Label;
            }
        }

        return (clearance ?? Scheme.Lowest, null);
    }

    /// <summary>
    /// Whether the caller may see and use the model: its clearance dominates the model's label. A model above the
    /// caller's clearance is not listed by <c>/v1/models</c> and a request naming it is answered like one for an unknown
    /// model (docs/retrieval.md, "Models above a caller's clearance"). A model the policy does not know (never admitted) is
    /// decided from its route's label.
    /// </summary>
    public bool MaySee(ClaimsPrincipal user, IPolicyRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        // A clearance claim that is not a valid marking counts as the lowest level here; Evaluate then denies the request
        // naming the bad claim, so the caller learns what to fix.
        return ClearanceOf(user).Clearance.Dominates(Model(route).Label);
    }

    /// <summary>
    /// The decision recorded for a request naming a model above the caller's clearance (<see cref="MaySee"/> false):
    /// denied by <see cref="PolicyRules.Clearance"/> with status 404, the status the caller is answered with (that of an
    /// unknown model). The message is for the ledger only: the caller is told nothing that shows the model exists.
    /// </summary>
    public PolicyOutcome HiddenModel(ClaimsPrincipal user, IPolicyRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var model = Model(route);
        var (clearance, problem) = ClearanceOf(user);
        var message = problem is null
            ? $"request denied by {PolicyRules.Clearance}: the model's label {Scheme.FormatBanner(model.Label)} is above the caller's clearance {Scheme.FormatBanner(clearance)}; the model is invisible to the caller, who was answered as for an unknown model"
            : $"request denied by {PolicyRules.Clearance}: the caller's clearance claim is not a valid marking ({problem}); the model is invisible to the caller, who was answered as for an unknown model";
        return Denied(PolicyRules.Clearance, message, [new PolicyReason(PolicyRules.Clearance, message)], null, clearance, model) with { Status = 404 };
    }

    /// <summary>Decides one API request: label, clearance, model and backend labels, jurisdictions, egress.</summary>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="classificationHeader">The <c>Enclave-Classification</c> header, or null when absent.</param>
    /// <param name="body">The request body as the client sent it (not modified).</param>
    /// <param name="route">The model's route.</param>
    public PolicyOutcome Evaluate(ClaimsPrincipal user, string? classificationHeader, JsonObject body, IPolicyRoute route)
    {
        ArgumentNullException.ThrowIfNull(body);
        return Evaluate(user, classificationHeader, Enclave.Core.JsonViews.ElementOf(body), route);
    }

    /// <summary>
    /// Decides one API request read as an element (the form the server parses a client's body into: no
    /// <see cref="JsonNode"/> tree is built unless the egress guard redacts); the same decision as for the object.
    /// </summary>
    /// <param name="user">The authenticated caller.</param>
    /// <param name="classificationHeader">The <c>Enclave-Classification</c> header, or null when absent.</param>
    /// <param name="body">The request body as the client sent it: a JSON object.</param>
    /// <param name="route">The model's route.</param>
    public PolicyOutcome Evaluate(ClaimsPrincipal user, string? classificationHeader, JsonElement body, IPolicyRoute route)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"a request body is a JSON object, not {body.ValueKind}", nameof(body));
        }

        ArgumentNullException.ThrowIfNull(route);
        var model = Model(route);
        var (clearance, clearanceProblem) = ClearanceOf(user);
        var text = RequestText.Collect(body, _maxStrings);
        RequestLabel label;
        try
        {
            label = _extractor.Extract(classificationHeader, text.Texts);
        }
        catch (MarkingParseException ex)
        {
            var message = $"request refused by {LabelHeaderRule}: the {RequestLabelExtractor.HeaderName} header is not a valid marking: {ex.Message}";
            return new PolicyOutcome
            {
                Allowed = false,
                Status = 400,
                Rule = LabelHeaderRule,
                Message = message,
                Clearance = clearance,
                ModelLabel = model.Label,
                Reasons = [new PolicyReason(LabelHeaderRule, message)],
                Candidates = model.Candidates,
                Backends = [],
            };
        }

        if (clearanceProblem is not null)
        {
            var message = $"request denied by {PolicyRules.Clearance}: your clearance claim is not a valid marking ({clearanceProblem}); ask an administrator to correct it";
            return Denied(PolicyRules.Clearance, message, [new PolicyReason(PolicyRules.Clearance, message)], label, clearance, model);
        }

        var decision = _decider.Decide(new PolicyRequest
        {
            UserClearance = clearance,
            RequestLabel = label.Label,
            ModelLabel = model.Label,
            Candidates = model.Candidates,
        });
        if (!decision.Allowed)
        {
            var denying = decision.Reasons.Where(r => r.BackendId is null).ToList();
            var rule = denying.Count > 0 ? denying[0].RuleId : PolicyRules.NoBackend;
            var why = string.Join("; ", denying.Select(r => r.Message));
            if (label.Source == LabelSource.Escalated)
            {
                // Say what actually happened: the request was too large (or too marked) to scan, not over-classified.
                why = $"the request could not be scanned for classification markings ({string.Join("; ", label.Problems.Where(p => !p.StartsWith("message ", StringComparison.Ordinal)))}); "
                    + $"send a smaller request or state its classification in the {RequestLabelExtractor.HeaderName} header. Policy then said: {why}";
            }

            return Denied(rule, $"request denied by {rule}: {why}", decision.Reasons, label, clearance, model);
        }

        return ApplyEgress(body, text, decision, label, clearance, model);
    }

    /// <summary>
    /// <c>policy explain</c>: the decision for a principal's clearance, a model and a request label (default when
    /// null), optionally on one backend only, without a request body (so without egress findings).
    /// </summary>
    /// <exception cref="ArgumentException">The request label is not a valid marking.</exception>
    /// <exception cref="KeyNotFoundException">The model, or the backend for that model, is unknown; the message says which.</exception>
    public PolicyOutcome Explain(string? clearanceMarking, string model, string? requestLabel, string? backend)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!_models.TryGetValue(model, out var policy))
        {
            throw new KeyNotFoundException($"the model '{model}' is not served by this enclave");
        }

        SecurityLabel clearance = Scheme.Lowest;
        if (clearanceMarking is not null)
        {
            var parsed = ParseClearance(clearanceMarking);
            if (parsed.Problem is not null)
            {
                var message = $"request denied by {PolicyRules.Clearance}: the principal's clearance is not a valid marking ({parsed.Problem})";
                return Denied(PolicyRules.Clearance, message, [new PolicyReason(PolicyRules.Clearance, message)], null, Scheme.Lowest, policy);
            }

            clearance = parsed.Label;
        }

        var label = requestLabel is null
            ? new RequestLabel { Label = DefaultRequestLabel, Source = LabelSource.Default }
            : new RequestLabel { Label = ParseArgument(requestLabel, "--label"), Source = LabelSource.Header };
        if (backend is not null)
        {
            var only = policy.Candidates.Where(c => c.Id == backend).ToArray();
            policy = only.Length > 0
                ? policy with { Candidates = only }
                : throw new KeyNotFoundException($"the backend '{backend}' does not serve the model '{model}' (its backends: {string.Join(", ", policy.Candidates.Select(c => c.Id))})");
        }

        var decision = _decider.Decide(new PolicyRequest
        {
            UserClearance = clearance,
            RequestLabel = label.Label,
            ModelLabel = policy.Label,
            Candidates = policy.Candidates,
        });
        if (!decision.Allowed)
        {
            var denying = decision.Reasons.Where(r => r.BackendId is null).ToList();
            var rule = denying.Count > 0 ? denying[0].RuleId : PolicyRules.NoBackend;
            return Denied(rule, $"request denied by {rule}: {string.Join("; ", denying.Select(r => r.Message))}", decision.Reasons, label, clearance, policy);
        }

        var reasons = decision.Reasons.ToList();
        foreach (var b in decision.Backends.Where(b => b.LeavesEnclave))
        {
            reasons.Add(new PolicyReason(
                "egress.guard",
                $"backend '{b.Id}' leaves the enclave: every request to it passes the egress guard ({EgressActionFor(b.Id).ToString().ToLowerInvariant()} on findings)",
                b.Id));
        }

        return new PolicyOutcome
        {
            Allowed = true,
            Status = 200,
            RequestLabel = label,
            Clearance = clearance,
            ModelLabel = policy.Label,
            Reasons = reasons,
            Candidates = policy.Candidates,
            Backends = [.. decision.Backends.Select(b => b.Id)],
        };
    }

    /// <summary>Parses a marking given by an operator; throws <see cref="ArgumentException"/> naming the option.</summary>
    public SecurityLabel ParseArgument(string marking, string what)
    {
        ArgumentNullException.ThrowIfNull(marking);
        try
        {
            return Scheme.ParseMarking(marking);
        }
        catch (MarkingParseException ex)
        {
            throw new ArgumentException($"{what}: {ex.Message}", ex);
        }
    }

    private PolicyOutcome ApplyEgress(JsonElement body, RequestText text, PolicyDecision decision, RequestLabel label, SecurityLabel clearance, ModelPolicy model)
    {
        var allowed = new List<string>(decision.Backends.Count);
        List<PolicyReason>? reasons = null;
        List<EgressReport>? reports = null;
        Dictionary<string, JsonObject>? bodies = null;
        EgressVerdict? blockVerdict = null, redactVerdict = null;
        JsonObject? redactedBody = null;
        string? firstEgressRule = null;
        foreach (var backend in decision.Backends)
        {
            if (!backend.LeavesEnclave)
            {
                allowed.Add(backend.Id);
                continue;
            }

            var action = EgressActionFor(backend.Id);
            var verdict = action == EgressAction.Block
                ? blockVerdict ??= _guard.Inspect(text.Texts, EgressAction.Block)
                : redactVerdict ??= _guard.Inspect(text.Texts, EgressAction.Redact);
            if (text.Truncated)
            {
                verdict = new EgressVerdict
                {
                    Allowed = false,
                    Action = EgressAction.Block,
                    Findings = [new EgressFinding(EgressRules.Limit, -1, 0, 0)],
                    Messages = [],
                    Reasons = [$"egress blocked: the request holds more than {_maxStrings} strings, the inspection limit; nothing was sent"],
                };
            }

            var locations = verdict.Findings.Select(f => new EgressLocation(f.RuleId, f.MessageIndex < 0 ? string.Empty : RequestText.PathOf(body, f.MessageIndex), f.Start, f.Length)).ToList();
            (reports ??= []).Add(new EgressReport(backend.Id, verdict.Action, verdict.Allowed, locations));
            if (!verdict.Allowed)
            {
                var first = verdict.Findings[0].RuleId;
                firstEgressRule ??= first;
                (reasons ??= []).Add(new PolicyReason(first, $"backend '{backend.Id}' excluded: {Where(verdict, locations)}; nothing was sent to it", backend.Id));
                continue;
            }

            if (verdict.Findings.Count > 0)
            {
                redactedBody ??= RequestText.Replace(body, verdict.Messages);
                (bodies ??= new Dictionary<string, JsonObject>(StringComparer.Ordinal))[backend.Id] = redactedBody;
                (reasons ??= []).Add(new PolicyReason(verdict.Findings[0].RuleId, $"backend '{backend.Id}': {Where(verdict, locations)}; only the redacted text may leave", backend.Id));
            }

            allowed.Add(backend.Id);
        }

        var all = reasons is null ? decision.Reasons : [.. decision.Reasons, .. reasons];
        if (allowed.Count == 0)
        {
            var rule = firstEgressRule ?? PolicyRules.NoBackend;
            var message = $"request denied by {rule}: every backend that may serve it leaves the enclave and the egress guard blocked the request ({string.Join("; ", reasons?.Select(r => r.Message) ?? [])})";
            return Denied(rule, message, all, label, clearance, model) with { Egress = (IReadOnlyList<EgressReport>?)reports ?? [] };
        }

        return new PolicyOutcome
        {
            Allowed = true,
            Status = 200,
            RequestLabel = label,
            Clearance = clearance,
            ModelLabel = model.Label,
            Reasons = all,
            Candidates = model.Candidates,
            Backends = allowed,
            Egress = (IReadOnlyList<EgressReport>?)reports ?? [],
            RedactedBodies = bodies,
        };
    }

    private static string Where(EgressVerdict verdict, List<EgressLocation> locations)
    {
        var verb = verdict.Allowed ? "redacted" : "egress blocked";
        var groups = locations.GroupBy(l => l.Rule, StringComparer.Ordinal).Select(g =>
            $"{verb} by rule {g.Key} at {string.Join(", ", g.Take(3).Select(l => l.Path.Length == 0 ? "the whole request" : $"{l.Path} [{l.Start}..{l.Start + l.Length})"))}{(g.Count() > 3 ? $" and {g.Count() - 3} more" : string.Empty)}");
        return string.Join("; ", groups);
    }

    private PolicyOutcome Denied(string rule, string message, IReadOnlyList<PolicyReason> reasons, RequestLabel? label, SecurityLabel clearance, ModelPolicy model) => new()
    {
        Allowed = false,
        Status = 403,
        Rule = rule,
        Message = message,
        RequestLabel = label,
        Clearance = clearance,
        ModelLabel = model.Label,
        Reasons = reasons,
        Candidates = model.Candidates,
        Backends = [],
    };

    /// <summary>
    /// Admits a model added to the catalog after start (a model the airlock activated): checks its label and its
    /// backends' accreditations against the label scheme and, when they are valid, decides its requests from now on.
    /// Call it before the route enters the catalog, so that no request finds a route the policy does not know.
    /// </summary>
    /// <exception cref="PolicyConfigurationException">The label or an accreditation is not a valid marking; nothing changed.</exception>
    public void Admit(IPolicyRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var problems = new List<string>();
        var model = BuildModel(route, Scheme, _localAccreditation, problems);
        if (problems.Count > 0)
        {
            throw new PolicyConfigurationException(PolicyConfigurationError.InvalidLabel, problems);
        }

        lock (_admitLock)
        {
            _models = new Dictionary<string, ModelPolicy>(_models, StringComparer.Ordinal) { [route.Id] = model }.ToFrozenDictionary(StringComparer.Ordinal);
        }
    }

    private ModelPolicy Model(IPolicyRoute route)
    {
        if (_models.TryGetValue(route.Id, out var m) && ReferenceEquals(m.Route, route))
        {
            return m;
        }

        // A route resolved just before it was replaced (or never admitted): decide from the route itself, unchanged.
        var problems = new List<string>();
        var model = BuildModel(route, Scheme, _localAccreditation, problems);
        return problems.Count == 0
            ? model
            : throw new InvalidOperationException($"model '{route.Id}' was not admitted by the policy: {string.Join("; ", problems)}");
    }

    /// <summary>The label a configured marking names; a bad marking is noted in <paramref name="problems"/> and the fallback used.</summary>
    private static SecurityLabel ParseOrNote(LabelScheme scheme, string? marking, SecurityLabel fallback, string where, List<string> problems)
    {
        if (marking is null)
        {
            return fallback;
        }

        try
        {
            return scheme.ParseMarking(marking);
        }
        catch (MarkingParseException ex)
        {
            problems.Add($"{where}: {ex.Message}");
            return fallback;
        }
    }

    private static ModelPolicy BuildModel(IPolicyRoute route, LabelScheme scheme, SecurityLabel local, List<string> problems)
    {
        SecurityLabel Parse(string? marking, SecurityLabel fallback, string where) => ParseOrNote(scheme, marking, fallback, where, problems);

        var modelLabel = Parse(route.Label, scheme.Lowest, $"model '{route.Id}' label (Models:{route.Id}:Label, the registry or the airlock import)");
        var candidates = new BackendCandidate[route.Backends.Count];
        for (var i = 0; i < candidates.Length; i++)
        {
            var backend = route.Backends[i];
            var accreditation = Parse(backend.Accreditation, local, $"backend '{backend.Name}' accreditation (Labels.Classification)");
            candidates[i] = new BackendCandidate(backend.Name, accreditation, backend.Jurisdiction, backend.LeavesEnclave);
        }

        return new ModelPolicy(route, modelLabel, candidates);
    }

    private Parsed ParseClearance(string marking)
    {
        if (_clearances.TryGetValue(marking, out var cached))
        {
            return cached;
        }

        Parsed parsed;
        try
        {
            parsed = new Parsed(Scheme.ParseMarking(marking), null);
        }
        catch (MarkingParseException ex)
        {
            parsed = new Parsed(Scheme.Lowest, ex.Message);
        }

        if (_clearances.Count >= MaxCachedClearances)
        {
            _clearances.Clear();
        }

        _clearances[marking] = parsed;
        return parsed;
    }

    private sealed record ModelPolicy(IPolicyRoute Route, SecurityLabel Label, BackendCandidate[] Candidates);

    private readonly record struct Parsed(SecurityLabel Label, string? Problem);
}
