using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.State.Retention;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Server.Admin;

/// <summary><c>GET /admin/v1/retention/{index}</c>: an admin or auditor reads a retained prompt and answer; the read itself is recorded first.</summary>
internal static class RetentionAdminEndpoints
{
    public static void MapRetention(RouteGroupBuilder admin)
    {
        admin.MapGet("/retention/{index}", async (string index, HttpContext http, ILedger ledger, TimeProvider clock) =>
        {
            if (!long.TryParse(index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ledgerIndex))
            {
                return Results.Problem(title: "Invalid ledger index", detail: "the index must be a non-negative integer (a request's Enclave-Ledger-Index)", statusCode: StatusCodes.Status400BadRequest);
            }

            var store = http.RequestServices.GetService<ContentRetentionStore>();
            if (store is null)
            {
                return Results.Problem(title: "Content retention is off", detail: "this enclave keeps only digests of prompts and answers (configure Retention to keep content)", statusCode: StatusCodes.Status404NotFound);
            }

            RetainedRecord? record;
            try
            {
                record = store.Read(ledgerIndex);
            }
            catch (RetentionIntegrityException ex)
            {
                return Results.Problem(title: "Retained record does not verify", detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
            }

            if (record is null)
            {
                return Results.Problem(title: "Not retained", detail: $"no content is kept for ledger index {ledgerIndex} (never retained, or past its retention period)", statusCode: StatusCodes.Status404NotFound);
            }

            // Reading someone's prompt is itself an auditable act, recorded durably before the content leaves.
            var read = await ledger.AppendAsync(
                AuditEvent.Create(
                    clock.GetUtcNow(),
                    http.User.PrincipalId(),
                    "ledger:" + ledgerIndex.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    new RetentionReadDetails { RequestId = record.RequestId }),
                http.RequestAborted).ConfigureAwait(false);
            http.Response.Headers["Enclave-Ledger-Index"] = read.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new JsonObject
            {
                ["admittedIndex"] = record.AdmittedIndex,
                ["requestId"] = record.RequestId,
                ["actor"] = record.Actor,
                ["created"] = record.Created,
                ["expires"] = record.Expires,
                ["promptSha256"] = Convert.ToHexStringLower(SHA256.HashData(record.Prompt)),
                ["prompt"] = ParseOrText(record.Prompt),
                ["answerSha256"] = record.Answer is { } a ? Convert.ToHexStringLower(SHA256.HashData(a)) : null,
                ["answer"] = record.Answer is { } b ? ParseOrText(b) : null,
            });
        }).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
    }

    private static JsonNode? ParseOrText(byte[] bytes)
    {
        try
        {
            return JsonNode.Parse(bytes);
        }
        catch (JsonException)
        {
            return JsonValue.Create(System.Text.Encoding.UTF8.GetString(bytes));
        }
    }
}
