using System.Text.Json.Nodes;
using Enclave.Airlock.Import;
using Enclave.Core.Audit;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Policy.Configuration;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Enclave.Server.Admin;

/// <summary>
/// The airlock under <c>/admin/v1/airlock</c>: pin the trusted TUF root (admin), stream a bundle into the import
/// pipeline (airlock-importer or admin), list and show imports, approve (airlock-approver or admin; never the importer)
/// and reject. The pipeline (<see cref="AirlockImporter"/>) records every step in the ledger with the caller as actor.
/// A refused bundle is a 422 problem whose <c>code</c> names the attack (<c>rollback</c>, <c>path-traversal</c>...);
/// workflow errors are 404 (no such import) or 409 (not pending, self-approval, a different root pinned). An approval
/// that activates a model makes it visible in <c>/v1/models</c> at once (<see cref="AirlockModels"/>).
/// </summary>
public static partial class AirlockAdminEndpoints
{
    /// <summary>Content types a bundle upload may declare.</summary>
    public static readonly IReadOnlyList<string> BundleContentTypes = ["application/x-tar", "application/octet-stream"];

    private const int MaxReasonBodyBytes = 16 * 1024;

    /// <summary>Maps <c>/airlock/trust</c> and <c>/airlock/imports...</c> onto the admin group.</summary>
    public static RouteGroupBuilder MapAirlock(this RouteGroupBuilder admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        admin.MapPost("/airlock/trust", PinTrustAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin));
        admin.MapPost("/airlock/imports", ImportAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockImporter));
        admin.MapPost("/airlock/pulls", PullAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockImporter));
        admin.MapGet("/airlock/imports", List).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockImporter, Roles.AirlockApprover, Roles.Auditor));
        admin.MapGet("/airlock/imports/{id}", Show).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockImporter, Roles.AirlockApprover, Roles.Auditor));
        admin.MapPost("/airlock/imports/{id}/approve", ApproveAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockApprover));
        admin.MapPost("/airlock/imports/{id}/reject", RejectAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.AirlockApprover));
        return admin;
    }

    private static async Task<IResult> PinTrustAsync(HttpContext http, AirlockImporter importer, bool? force)
    {
        var limit = Airlock.Tuf.TufUpdaterOptions.Default.MaxRootBytes;
        var (root, tooLarge) = await AdminRequestBody.ReadAsync(http, limit).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Root too large", $"a TUF root is at most {limit} bytes; nothing was pinned");
        }

        try
        {
            var pinned = await importer.PinTrustAsync(root, http.User.PrincipalId(), force ?? false, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(new JsonObject
            {
                ["rootSha256"] = pinned.Pin.RootSha256.ToHex(),
                ["rootVersion"] = pinned.Pin.RootVersion,
                ["changed"] = pinned.Changed,
                ["replacedSha256"] = pinned.Replaced?.ToHex(),
                ["pinnedBy"] = pinned.Pin.Actor,
                ["pinned"] = AuditEvent.FormatTime(pinned.Pin.Pinned),
            });
        }
        catch (ImportWorkflowException e)
        {
            return Workflow(e);
        }
    }

    internal static async Task<IResult> ImportAsync(HttpContext http, AirlockImporter importer, EnclavePolicy policy, ServerSettings settings, string? via = null)
    {
        var contentType = http.Request.ContentType?.Split(';')[0].Trim();
        if (contentType is null || !BundleContentTypes.Contains(contentType, StringComparer.OrdinalIgnoreCase))
        {
            return Problem(
                StatusCodes.Status415UnsupportedMediaType,
                "Not a bundle upload",
                $"send the bundle file itself as the request body with Content-Type {string.Join(" or ", BundleContentTypes)} (was '{contentType ?? "none"}'); nothing was imported");
        }

        if (http.Request.ContentLength > settings.MaxImportBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Bundle too large", $"the bundle is {http.Request.ContentLength} bytes; this enclave accepts at most {settings.MaxImportBytes} (MaxImportBytes); nothing was imported");
        }

        // Only this endpoint, and only for a caller allowed to import, lifts the server-wide body limit.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = settings.MaxImportBytes;
        }

        // The bundle reader is synchronous (on a worker thread of its own, never a request thread); allow it to read the body.
        if (http.Features.Get<IHttpBodyControlFeature>() is { } body)
        {
            body.AllowSynchronousIO = true;
        }

        var actor = http.User.PrincipalId();
        ImportRecord record;
        try
        {
            // Streamed straight from the request into the pipeline: no temporary copy of the bundle.
            record = await importer.ImportAsync(http.Request.Body, actor, label => LabelProblem(policy, label), via, progress: null, http.RequestAborted).ConfigureAwait(false);
        }
        catch (ImportRejectedException e)
        {
            return Rejected(e);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Bundle too large", $"the bundle exceeds {settings.MaxImportBytes} bytes (MaxImportBytes); nothing was imported");
        }

        return Imported(record);
    }

    // The label was checked against this enclave's scheme by the importer, with the other metadata checks and before
    // anything was committed: a label the scheme cannot read is a 422 (code "label") that leaves trust state unchanged.
    private static IResult Imported(ImportRecord record) => Results.Json(ToJson(record), statusCode: StatusCodes.Status201Created);

    // POST /airlock/pulls {"mirror": URL, "kind", "name", "version"}: the artifact from a TUF mirror inside the enclave,
    // verified by the same import pipeline as an upload; the answers are the import's (201, 422 naming the attack).
    private static async Task<IResult> PullAsync(HttpContext http, AirlockImporter importer, EnclavePolicy policy)
    {
        var (body, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxReasonBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Request too large", $"the body is larger than {MaxReasonBodyBytes} bytes; nothing was imported");
        }

        JsonObject? request;
        try
        {
            request = Core.StrictJson.Parse(body, maxDepth: 8) as JsonObject;
        }
        catch (System.Text.Json.JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not valid JSON: {e.Message}; nothing was imported");
        }

        string? Field(string name) => request?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
        var (mirror, kind, name, version) = (Field("mirror"), Field("kind"), Field("name"), Field("version"));
        if (mirror is null || string.IsNullOrEmpty(kind) || string.IsNullOrEmpty(name) || string.IsNullOrEmpty(version))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "the body must be {\"mirror\": \"https://mirror.enclave/\", \"kind\": \"model\", \"name\": \"NAME\", \"version\": \"VERSION\"}; nothing was imported");
        }

        if (!Uri.TryCreate(mirror, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.Query.Length > 0 || url.Fragment.Length > 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"mirror must be an absolute http or https URL without query or fragment, not '{Shorten(mirror)}'; nothing was imported");
        }

        ImportRecord record;
        try
        {
            record = await importer.PullAsync(url, kind, name, version, http.User.PrincipalId(), client: null, progress: null, label => LabelProblem(policy, label), http.RequestAborted).ConfigureAwait(false);
        }
        catch (ImportRejectedException e)
        {
            return Rejected(e);
        }
        catch (MirrorPullException e)
        {
            return Problem(StatusCodes.Status502BadGateway, "Mirror failed", e.Message, "mirror-failed");
        }

        return Imported(record);
    }

    private static IResult List(AirlockImporter importer, string? state)
    {
        ImportState? filter = null;
        if (state is not null)
        {
            if (!Enum.TryParse<ImportState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"state must be verified, activated or rejected, not '{Shorten(state)}'");
            }

            filter = parsed;
        }

        return Results.Json(new JsonObject { ["imports"] = new JsonArray([.. importer.List(filter).Select(r => (JsonNode)ToJson(r))]) });
    }

    private static IResult Show(string id, AirlockImporter importer, VulnerabilityFindingsService findings)
    {
        if (importer.Get(id) is not { } record)
        {
            return NotFound(id);
        }

        // Approvers see the findings of the artifact's SBOM against the data in the store before they approve.
        var json = ToJson(record);
        json["vulnerabilities"] = VulnsAdminEndpoints.ImportFindings(findings, importer.SbomFile(id));
        return Results.Json(json);
    }


    private static async Task<IResult> ApproveAsync(string id, HttpContext http, AirlockImporter importer, AirlockModels models, ILoggerFactory logs, VulnerabilityFindingsService findings, ILedger ledger, TimeProvider clock)
    {
        ImportRecord record;
        var actor = http.User.PrincipalId();
        if (findings.Options.BlockApprovalOnKev && await KevBlockAsync(id, actor, importer, findings, ledger, clock, http.RequestAborted).ConfigureAwait(false) is { } blocked)
        {
            return blocked;
        }

        // Approving twice counts once (the importer records nothing the second time): say so rather than nothing.
        var already = importer.Get(id) is { State: ImportState.Verified } pending && pending.Approvers.Contains(actor, StringComparer.Ordinal);
        try
        {
            record = await importer.ApproveAsync(id, actor, http.RequestAborted).ConfigureAwait(false);
        }
        catch (ImportWorkflowException e)
        {
            return Workflow(e);
        }

        var json = ToJson(record);
        if (already)
        {
            json["alreadyApprovedBy"] = actor;
        }

        if (ServeActivated(record, importer, models, logs) is { } serving)
        {
            json["served"] = serving.Served;
            if (serving.Warning is not null)
            {
                json["warning"] = serving.Warning;
            }
        }

        return Results.Json(json);
    }

    /// <summary>
    /// After an approval (through the admin API or the console): an import that is now an activated model is loaded
    /// and served at once; null when <paramref name="record"/> is not an activated model. Serving that fails leaves the
    /// activation standing (it is retried at the next start) and says why in <c>Warning</c>.
    /// </summary>
    internal static (JsonObject? Served, string? Warning)? ServeActivated(ImportRecord record, AirlockImporter importer, AirlockModels models, ILoggerFactory logs)
    {
        if (record.State != ImportState.Activated || record.Kind != "model")
        {
            return null;
        }

        var artifact = importer.ListActivated("model").SingleOrDefault(a => a.ImportId == record.Id);
        try
        {
            var (served, replaced) = models.Serve(artifact ?? throw new InvalidOperationException($"import {record.Id} is activated but not in the registry"));
            return (new JsonObject { ["model"] = served.Id, ["kind"] = served.Kind, ["replaced"] = replaced?.Source ?? replaced?.BackendName }, null);
        }
        catch (Exception e) when (e is InvalidOperationException or PolicyConfigurationException or IOException or UnauthorizedAccessException or ArgumentException or Inference.Onnx.InvalidModelException or Inference.Text.TokenizerException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            // The artifact is activated (approved by the people required); serving it failed here and is retried at the next start.
            Log.NotServed(logs.CreateLogger(typeof(AirlockAdminEndpoints)), record.Id, e.GetType().Name);
            return (null, $"activated, but not served yet: {e.Message}; fix the cause and restart the server");
        }
    }

    /// <summary>Vulns:BlockApprovalOnKev: a pending import whose SBOM has open KEV findings is not approved (<c>vulns.approval-blocked</c>).</summary>
    private static async Task<IResult?> KevBlockAsync(string id, string actor, AirlockImporter importer, VulnerabilityFindingsService findings, ILedger ledger, TimeProvider clock, CancellationToken ct) =>
        await KevRefusalAsync(id, actor, importer, findings, ledger, clock, ct).ConfigureAwait(false) is { } refusal
            ? Problem(StatusCodes.Status409Conflict, "Approval refused: known exploited vulnerabilities", refusal, "kev-findings")
            : null;

    /// <summary>
    /// The refusal (recorded as <c>vulns.approval-blocked</c>) when a pending import's SBOM has open KEV findings, or
    /// null; the admin API and the console both ask it before an approval when Vulns:BlockApprovalOnKev is on.
    /// </summary>
    internal static async Task<string?> KevRefusalAsync(string id, string actor, AirlockImporter importer, VulnerabilityFindingsService findings, ILedger ledger, TimeProvider clock, CancellationToken ct, string? via = null)
    {
        if (importer.Get(id) is not { State: ImportState.Verified } || importer.SbomFile(id) is not { } sbom)
        {
            return null;
        }

        PreviewResult preview;
        try
        {
            preview = findings.Preview(await File.ReadAllBytesAsync(sbom, ct).ConfigureAwait(false), Path.GetFileName(sbom));
        }
        catch (Exception e) when (e is Intel.Vulnerabilities.VulnerabilityDataException or IOException)
        {
            return null;
        }

        var kev = preview.Findings.Where(f => f.KevCve is not null && VulnerabilityFindingsService.IsOpen(f.Status)).ToList();
        if (kev.Count == 0)
        {
            return null;
        }

        var details = new VulnsApprovalBlockedDetails
        {
            ImportId = id,
            Kev = [.. kev.Select(f => f.KevCve!).Distinct(StringComparer.Ordinal).Take(50)],
            Findings = kev.Count,
            Via = via,
        };
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), actor, "import:" + id, details), ct).ConfigureAwait(false);
        var sample = string.Join(", ", kev.Take(5).Select(f => $"{f.AdvisoryId} ({f.KevCve}) in {f.Component}"));
        return $"approval refused: the SBOM of {id} has {kev.Count} open findings listed in CISA KEV ({sample}{(kev.Count > 5 ? ", …" : "")}) and Vulns:BlockApprovalOnKev is on; " +
            "reject the import and bring in a fixed version, or record a VEX decision (enclave vulns vex decide) where the component is not affected; nothing was approved";
    }

    private static async Task<IResult> RejectAsync(string id, HttpContext http, AirlockImporter importer)
    {
        var (body, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxReasonBodyBytes).ConfigureAwait(false);
        string? reason = null;
        if (!tooLarge && body.Length > 0)
        {
            try
            {
                reason = (Core.StrictJson.Parse(body, maxDepth: 8) as JsonObject)?["reason"] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
            }
            catch (System.Text.Json.JsonException e)
            {
                return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not valid JSON: {e.Message}; nothing was changed");
            }
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", "the body must be {\"reason\": \"why the import is rejected\"} (at most 1000 characters); nothing was changed");
        }

        try
        {
            var record = await importer.RejectAsync(id, http.User.PrincipalId(), reason, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(ToJson(record));
        }
        catch (ImportWorkflowException e)
        {
            return Workflow(e);
        }
        catch (ArgumentException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", e.Message + "; nothing was changed");
        }
    }

    private static IResult Rejected(ImportRejectedException e) => Results.Problem(
        title: $"Bundle rejected: {e.Code}",
        detail: e.Message,
        statusCode: StatusCodes.Status422UnprocessableEntity,
        extensions: new Dictionary<string, object?>
        {
            ["code"] = e.Code,
            ["reason"] = e.Reason.ToString(),
            ["findings"] = e.Findings,
        });

    private static IResult Workflow(ImportWorkflowException e) => e.Error switch
    {
        ImportWorkflowError.NotFound => Problem(StatusCodes.Status404NotFound, "Not found", e.Message),
        ImportWorkflowError.InvalidRoot => Problem(StatusCodes.Status422UnprocessableEntity, "Invalid root", e.Message, "invalid-root"),
        ImportWorkflowError.SelfApproval => Problem(StatusCodes.Status409Conflict, "Self-approval refused", e.Message, "self-approval"),
        ImportWorkflowError.TrustConflict => Problem(StatusCodes.Status409Conflict, "A different root is pinned", e.Message, "trust-conflict"),
        ImportWorkflowError.NotPending => Problem(StatusCodes.Status409Conflict, "Not pending", e.Message, "not-pending"),
        _ => Problem(StatusCodes.Status409Conflict, "Conflict", e.Message, e.Error.ToString()),
    };

    private static IResult NotFound(string id) => Problem(StatusCodes.Status404NotFound, "Not found", $"there is no import '{Shorten(id)}'");

    private static IResult Problem(int status, string title, string detail, string? code = null) => Results.Problem(
        title: title,
        detail: detail,
        statusCode: status,
        extensions: code is null ? null : new Dictionary<string, object?> { ["code"] = code });

    private static string? LabelProblem(EnclavePolicy policy, string label)
    {
        try
        {
            _ = policy.Scheme.ParseMarking(label);
            return null;
        }
        catch (MarkingParseException e)
        {
            return e.Message;
        }
    }

    /// <summary>An import as the admin API shows it.</summary>
    internal static JsonObject ToJson(ImportRecord record) => new()
    {
        ["id"] = record.Id,
        ["kind"] = record.Kind,
        ["name"] = record.Name,
        ["version"] = record.Version,
        ["label"] = record.Label,
        ["task"] = record.Task,
        ["state"] = record.State.ToString().ToLowerInvariant(),
        ["importer"] = record.Importer,
        ["approvers"] = new JsonArray([.. record.Approvers.Select(a => (JsonNode)a)]),
        ["requiredApprovals"] = record.RequiredApprovals,
        ["approvalsNeeded"] = record.State == ImportState.Verified ? Math.Max(0, record.RequiredApprovals - record.Approvers.Count) : 0,
        ["signerKeyIds"] = new JsonArray([.. record.SignerKeyIds.Select(k => (JsonNode)k)]),
        // Null: imported before the per-role signers were recorded (not known; never filled in afterwards).
        ["roleSigners"] = record.RoleSigners is null ? null : new JsonArray([.. record.RoleSigners.Select(r => (JsonNode)new JsonObject
        {
            ["role"] = r.Role,
            ["version"] = r.Version,
            ["threshold"] = r.Threshold,
            ["keyIds"] = new JsonArray([.. r.KeyIds.Select(k => (JsonNode)k)]),
        })]),
        ["manifestSha256"] = record.ManifestSha256.ToHex(),
        ["sbomSha256"] = record.SbomSha256?.ToHex(),
        ["provenanceSha256"] = record.ProvenanceSha256?.ToHex(),
        ["archiveBytes"] = record.ArchiveBytes,
        ["tufVersions"] = new JsonObject(record.TufVersions.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        ["targets"] = new JsonArray([.. record.Targets.Select(t => (JsonNode)new JsonObject
        {
            ["path"] = t.RelativePath,
            ["type"] = t.Type,
            ["sha256"] = t.Sha256.ToHex(),
            ["length"] = t.Length,
        })]),
        ["reasons"] = new JsonArray([.. record.Reasons.Select(r => (JsonNode)r)]),
        ["received"] = AuditEvent.FormatTime(record.Received),
        ["verified"] = AuditEvent.FormatTime(record.Verified),
        ["decided"] = record.Decided is { } d ? AuditEvent.FormatTime(d) : null,
        ["decidedBy"] = record.DecidedBy,
    };

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static partial class Log
    {
        [LoggerMessage(EventId = 4102, Level = LogLevel.Error, Message = "Airlock import {ImportId} is activated but could not be served ({Error}); it is loaded again at the next start")]
        public static partial void NotServed(ILogger logger, string importId, string error);
    }
}
