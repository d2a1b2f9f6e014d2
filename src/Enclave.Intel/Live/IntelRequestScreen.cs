using System.Globalization;
using System.Net;
using Enclave.Intel.Alerts;
using Enclave.Intel.Indicators;

namespace Enclave.Intel.Live;

/// <summary>
/// Screens a <c>/v1</c> request against the live indicators: its client address, its <c>user</c> field and its
/// principal. Nothing is looked up when no indicator is live; otherwise one index lookup per value. The verdict says
/// whether to deny (per <see cref="IntelApplyOptions"/>); <see cref="RaiseAsync"/> raises one alert per hit once the
/// request's ledger entry is written.
/// </summary>
public sealed class IntelRequestScreen(LiveIndicators live, AlertService alerts, IntelApplyOptions options)
{
    /// <summary>Null when nothing matched (the common case, allocation-free when no indicator is live).</summary>
    public RequestScreenVerdict? Screen(IPAddress? client, string? user, string? principalId, string? principalName)
    {
        if (live.IsEmpty)
        {
            return null;
        }

        List<ScreenHit>? hits = null;
        if (client is not null && options.Addresses != "off" && LedgerObservations.Address(client.ToString()) is { } address)
        {
            Add(ref hits, "address", options.Addresses, address.Property, address.Value);
        }

        if (!string.IsNullOrEmpty(user) && options.Users != "off")
        {
            Add(ref hits, "user", options.Users, IndexedProperty.UserId, user);
        }

        if (options.Principals != "off")
        {
            if (!string.IsNullOrEmpty(principalId))
            {
                Add(ref hits, "principal", options.Principals, IndexedProperty.UserId, principalId);
            }

            if (!string.IsNullOrEmpty(principalName) && principalName != principalId)
            {
                Add(ref hits, "principal", options.Principals, IndexedProperty.UserId, principalName);
            }
        }

        return hits is null ? null : new RequestScreenVerdict(hits.Exists(h => h.Action == "deny"), hits);
    }

    private void Add(ref List<ScreenHit>? hits, string what, string action, IndexedProperty property, string value)
    {
        foreach (var hit in live.Match(property, value))
        {
            (hits ??= []).Add(new ScreenHit(what, action, hit));
        }
    }

    /// <summary>One alert per hit, citing the request's ledger entry (<c>request.admitted</c> or <c>request.denied</c>).</summary>
    public async Task RaiseAsync(RequestScreenVerdict verdict, long ledgerIndex, string requestId, string actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        foreach (var hit in verdict.Hits)
        {
            var outcome = hit.Action == "deny" ? "denied" : "served (flagged)";
            await alerts.RaiseAsync(
                new AlertRequest
                {
                    Kind = AlertKind.Intel,
                    Severity = hit.Action == "deny" ? AlertSeverity.High : AlertSeverity.Medium,
                    Title = Clip($"request {requestId}: {hit.What} {hit.Hit.Value} matched indicator {hit.Hit.Name ?? hit.Hit.IndicatorId}; {outcome}", AlertService.MaxTitleLength),
                    Subject = "request:" + requestId,
                    Evidence = new AlertEvidence
                    {
                        Summary = Clip($"The {hit.What} {hit.Hit.Value} of request {requestId} by {actor} matches live indicator {hit.Hit.IndicatorId} (from import {hit.Hit.ImportId}); the request was {outcome}.", AlertService.MaxTextLength),
                        LedgerIndices = [ledgerIndex],
                        Facts = new Dictionary<string, string>(StringComparer.Ordinal)
                        {
                            ["indicator"] = hit.Hit.IndicatorId,
                            ["indicatorImport"] = hit.Hit.ImportId,
                            ["matched"] = Clip(hit.What + " " + hit.Hit.Value, AlertService.MaxFactLength),
                            ["action"] = hit.Action,
                        },
                    },
                    DeduplicationKey = Clip($"intel:{hit.Hit.IndicatorId}:{ledgerIndex.ToString(CultureInfo.InvariantCulture)}:{(hit.What == "address" ? "client address" : hit.What)}", AlertService.MaxFactLength),
                    Actor = "system",
                },
                cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Clip(string s, int max) => AlertText.Clip(s, max);
}

/// <summary>What the screen found: whether to deny, and every hit.</summary>
public sealed record RequestScreenVerdict(bool Deny, IReadOnlyList<ScreenHit> Hits);

/// <summary>One hit: what matched (<c>address</c>, <c>user</c>, <c>principal</c>), the configured action, the indicator.</summary>
public sealed record ScreenHit(string What, string Action, IndicatorHit Hit);
