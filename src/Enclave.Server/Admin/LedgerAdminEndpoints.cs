using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Admin;

/// <summary>
/// <c>/admin/v1/ledger</c>: the latest signed checkpoint, and the record of an export made beside the running server
/// (<c>POST /ledger/exports</c>), for admins and auditors. <c>enclave ledger export</c> reads the data directory
/// directly; while a server holds it the CLI cannot append, so it asks the server to append <c>ledger.exported</c> with
/// the caller as actor: the insider analytics count ledger exports, and an export should not hide behind a running
/// server.
/// </summary>
internal static class LedgerAdminEndpoints
{
    private const int MaxBodyBytes = 8 * 1024;
    private const int MaxOutputLength = 4096;
    private const string Shape = "{\"to\": last index exported, \"output\": \"where the files went\", \"filesWritten\": count}";

    public static RouteGroupBuilder MapLedger(this RouteGroupBuilder admin)
    {
        admin.MapGet("/ledger/checkpoint", (SqliteLedger ledger) => ledger.LatestCheckpoint() is { } cp
                ? Results.Text(cp.Note, "text/plain; charset=utf-8")
                : Results.Problem(title: "No checkpoint yet", statusCode: StatusCodes.Status404NotFound))
            .RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        admin.MapPost("/ledger/exports", RecordExportAsync).RequireAuthorization(p => p.RequireRole(Roles.Admin, Roles.Auditor));
        return admin;
    }

    private static async Task<IResult> RecordExportAsync(HttpContext http, ILedger ledger, TimeProvider clock)
    {
        var (bytes, tooLarge) = await AdminRequestBody.ReadAsync(http, MaxBodyBytes).ConfigureAwait(false);
        if (tooLarge)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"the body is at most {MaxBodyBytes} bytes; nothing was recorded");
        }

        JsonObject? body;
        try
        {
            // Strict: duplicate keys, invalid UTF-8 and lone surrogates are a 400.
            body = bytes.Length == 0 ? null : StrictJson.Parse(bytes, maxDepth: 4) as JsonObject;
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body is not JSON ({e.Message}); it must be {Shape}; nothing was recorded");
        }

        if (body is null
            || !TryLong(body, "to", out var to) || !TryLong(body, "filesWritten", out var filesWritten)
            || body["output"] is not JsonValue outputValue || !outputValue.TryGetValue<string>(out var output)
            || body.Count != 3)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", $"the body must be {Shape}, nothing else; nothing was recorded");
        }

        var size = ledger.Size;
        var problems = new List<string>();
        if (to < 0 || to >= size)
        {
            problems.Add($"to must be an index in the ledger (0 to {size - 1}), not {to}");
        }

        if (filesWritten < 0)
        {
            problems.Add($"filesWritten must not be negative, not {filesWritten}");
        }

        if (string.IsNullOrWhiteSpace(output) || output.Length > MaxOutputLength || output.Any(char.IsControl))
        {
            problems.Add($"output must be a path of 1 to {MaxOutputLength} characters without control characters");
        }

        if (problems.Count > 0)
        {
            return Problem(StatusCodes.Status400BadRequest, "Invalid request", string.Join("; ", problems) + "; nothing was recorded");
        }

        var index = await ledger.AppendAsync(
            AuditEvent.Create(clock.GetUtcNow(), http.User.PrincipalId(), $"ledger:0-{to}", new LedgerExportedDetails
            {
                From = 0,
                To = to,
                Entries = to + 1,
                Output = output,
                FilesWritten = filesWritten,
            }),
            http.RequestAborted).ConfigureAwait(false);
        return Results.Json(new JsonObject { ["ledgerIndex"] = index });
    }

    private static bool TryLong(JsonObject body, string name, out long value)
    {
        value = 0;
        return body[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out value);
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(title: title, detail: detail, statusCode: status);
}
