using System.Security.Claims;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Policy.Requests;
using Enclave.Server.Policy;
using Enclave.State.Responses;

namespace Enclave.Server.Responses;

/// <summary>
/// Stored responses and who may see them. A response is visible to the principal that created it and to admins, and
/// to either only while their clearance dominates the label its request was admitted under; to anyone else it does
/// not exist (404, so that its existence does not leak). Storing, an admin's reading of another's response and every
/// deletion are ledger entries (<c>response.stored</c>, <c>response.read</c>, <c>response.deleted</c>), as are the
/// cancellation of a background response (<c>response.cancelled</c>) and each purge of expired ones
/// (<c>responses.purged</c>). A response older than <c>Responses:RetentionDays</c> does not exist for anyone, purged or
/// not.
/// </summary>
internal sealed class ResponseService(IResponseStore store, EnclavePolicy policy, ILedger ledger, TimeProvider clock, Hosting.ServerSettings settings)
{
    public TimeProvider Clock => clock;

    /// <summary>The stored responses (a background response's run moves its status).</summary>
    public IResponseStore Store => store;

    /// <summary>The stored response <paramref name="id"/> if <paramref name="user"/> may see it; null otherwise.</summary>
    public StoredResponse? Find(string id, ClaimsPrincipal user)
    {
        if (id.Length > 128 || store.Get(id) is not { } row || row.Created + settings.Responses.Retention <= clock.GetUtcNow())
        {
            return null;
        }

        var (clearance, problem) = policy.ClearanceOf(user);
        if (problem is not null || Label(row) is not { } label || !clearance.Dominates(label))
        {
            return null;
        }

        return row.Owner == Actor(user) || user.IsInRole(Roles.Admin) ? row : null;
    }

    /// <summary>The label a stored response was admitted under, or null when it no longer parses (then nobody sees it: fail closed).</summary>
    public SecurityLabel? Label(StoredResponse row)
    {
        ArgumentNullException.ThrowIfNull(row);
        try
        {
            return policy.Scheme.ParseBanner(row.Label);
        }
        catch (MarkingParseException)
        {
            return null;
        }
    }

    /// <summary>
    /// The classification header a request continuing <paramref name="previous"/> is evaluated under: the join of the
    /// previous response's label and the request's own (its header, or the default), so that a conversation never
    /// flows to a backend below the label of any of its turns. A malformed header is passed on for policy to refuse.
    /// </summary>
    public string? ChainedClassification(StoredResponse previous, string? header)
    {
        ArgumentNullException.ThrowIfNull(previous);
        SecurityLabel own;
        try
        {
            own = header is null ? policy.DefaultRequestLabel : policy.Scheme.ParseBanner(header);
        }
        catch (MarkingParseException)
        {
            return header;
        }

        return Label(previous) is { } label ? policy.Scheme.FormatBanner(own.Join(label)) : policy.Scheme.FormatBanner(policy.Scheme.Highest);
    }

    /// <summary>
    /// The label the request of <paramref name="http"/> was admitted under, as the policy writes it (the decision the
    /// request handler left in the context); the highest label when there is none, so that nobody below sees it.
    /// </summary>
    public string LabelOf(Microsoft.AspNetCore.Http.HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var label = http.Items.TryGetValue(typeof(PolicyOutcome), out var o) && o is PolicyOutcome { RequestLabel: { } requestLabel }
            ? requestLabel.Label
            : policy.Scheme.Highest;
        return policy.Scheme.FormatBanner(label);
    }

    /// <summary>Stores a completed response (or a background one as it is queued), then records <c>response.stored</c> (durable before the answer leaves).</summary>
    public async Task<long> StoreAsync(StoredResponse row)
    {
        ArgumentNullException.ThrowIfNull(row);
        store.Put(row);
        var details = new ResponseStoredDetails
        {
            ResponseId = row.Id,
            RequestId = row.RequestId,
            AdmittedIndex = row.AdmittedIndex,
            Model = row.Model,
            Label = row.Label,
            PreviousResponseId = row.PreviousId,
        };
        return await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), row.Owner, "response:" + row.Id, details)).ConfigureAwait(false);
    }

    /// <summary>Records an admin's read of a response another principal owns (nothing when the owner reads it).</summary>
    public async Task RecordReadAsync(StoredResponse row, ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(row);
        var actor = Actor(user);
        if (row.Owner != actor)
        {
            await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), actor, "response:" + row.Id, new ResponseReadDetails
            {
                ResponseId = row.Id,
                Owner = row.Owner,
            })).ConfigureAwait(false);
        }
    }

    /// <summary>Records <c>response.deleted</c>, then deletes the response.</summary>
    public async Task DeleteAsync(StoredResponse row, ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(row);
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), Actor(user), "response:" + row.Id, new ResponseDeletedDetails
        {
            ResponseId = row.Id,
            Owner = row.Owner,
            RequestId = row.RequestId,
        })).ConfigureAwait(false);
        store.Delete(row.Id);
    }

    /// <summary>
    /// Cancels a background response that is still queued or in progress: records <c>response.cancelled</c>, then moves
    /// its status (one conditional update, so that a response that ended meanwhile keeps its end). The cancelled
    /// response object, or null when it had already ended.
    /// </summary>
    public async Task<string?> CancelAsync(StoredResponse row, ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(row);
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), Actor(user), "response:" + row.Id, new ResponseCancelledDetails
        {
            ResponseId = row.Id,
            Owner = row.Owner,
            RequestId = row.RequestId,
            Status = row.Status,
        })).ConfigureAwait(false);
        var response = JsonNode.Parse(row.Response) as JsonObject ?? [];
        response["status"] = "cancelled";
        var text = response.ToJsonString(OpenAi.OpenAiError.Json);
        return store.Transition(row.Id, "cancelled", text) ? text : null;
    }

    /// <summary>
    /// Deletes every stored response older than the retention period and, when there was any, records
    /// <c>responses.purged</c> with their number and the cutoff. The number deleted.
    /// </summary>
    public async Task<int> PurgeAsync()
    {
        var cutoff = clock.GetUtcNow() - settings.Responses.Retention;
        var count = store.DeleteCreatedBefore(cutoff);
        if (count > 0)
        {
            await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), "system", "responses", new ResponsesPurgedDetails
            {
                Count = count,
                CreatedBefore = cutoff.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                RetentionDays = settings.Responses.RetentionDays,
            })).ConfigureAwait(false);
        }

        return count;
    }

    public static string Actor(ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";
}
