using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Enclave.Airlock.Import;
using Enclave.Cli.Admin;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave airlock ...</c>: the disconnected side of the airlock, through the server's admin API. <c>trust</c> pins
/// the TUF root (admin), <c>import</c> streams a bundle to the server, which verifies it (airlock-importer or admin),
/// <c>list</c> and <c>show</c> report imports, <c>approve</c> and <c>reject</c> decide them (airlock-approver or admin;
/// never the importer). Every step is authenticated and recorded in the ledger by the server.
/// </summary>
internal static class AirlockCommands
{
    /// <summary>Most parts of a split bundle read (<c>FILE.000</c> ... <c>FILE.999</c>).</summary>
    private const int MaxParts = 1000;

    public static Command Create(CliContext context)
    {
        var airlock = new Command("airlock", "Bring bundles into the enclave: pin the trusted root, import, list, approve, reject (calls the server's admin API).");
        airlock.Subcommands.Add(Trust(context));
        airlock.Subcommands.Add(Import(context));
        airlock.Subcommands.Add(Pull(context));
        airlock.Subcommands.Add(List(context));
        airlock.Subcommands.Add(Show(context));
        airlock.Subcommands.Add(Approve(context));
        airlock.Subcommands.Add(Reject(context));
        return airlock;
    }

    private static Command Trust(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var root = new Argument<string>("ROOT.json") { Description = "The TUF root from the connected side (e.g. metadata/1.root.json of 'enclave trust init')." };
        var force = new Option<bool>("--force") { Description = "Replace a different pinned root; this resets the trusted version of every role." };
        var json = new Option<bool>("--json") { Description = "Print the pin as one JSON object." };
        var command = new Command("trust", "Pin the TUF root every bundle must chain to (admin).") { root, force, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var path = result.GetValue(root)!;
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new FileNotFoundException($"root file {path} not found", path);
            }

            if (info.Length > 512 * 1024)
            {
                throw new ArgumentException($"{path} is {info.Length} bytes; a TUF root is at most 512 KiB");
            }

            using var client = connection.CreateClient(result);
            await using var file = File.OpenRead(path);
            var pinned = (await client.PostStreamAsync("airlock/trust" + (result.GetValue(force) ? "?force=true" : string.Empty), file, "application/json", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, pinned).ConfigureAwait(false);
            }
            else if (pinned["changed"]!.GetValue<bool>())
            {
                var replaced = pinned["replacedSha256"]?.GetValue<string>() is { } old ? $", replacing {old}" : string.Empty;
                await context.Out.WriteLineAsync($"pinned root version {pinned["rootVersion"]} (sha256 {pinned["rootSha256"]}){replaced}").ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"root version {pinned["rootVersion"]} (sha256 {pinned["rootSha256"]}) is already pinned; nothing changed").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Import(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var file = new Argument<string>("FILE") { Description = "The bundle, or a split bundle's base name or first part (FILE.000, FILE.001... are sent in order)." };
        var json = new Option<bool>("--json") { Description = "Print the import (or the rejection) as one JSON object." };
        var command = new Command("import", "Send a bundle to the enclave: TUF verification, quarantine, scanners; it then waits for approval (airlock-importer or admin).") { file, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var parts = Enclave.Airlock.Bundles.SplitPartsStream.Parts(result.GetValue(file)!, MaxParts);
            var total = parts.Sum(p => new FileInfo(p).Length);
            using var client = connection.CreateClient(result);
            JsonObject record;
            try
            {
                record = (await ProgressDisplay.RunAsync(context, "sending and verifying the bundle", total, async progress =>
                {
                    await using var upload = Enclave.Airlock.Bundles.SplitPartsStream.OpenParts(parts, progress);
                    return await client.PostStreamAsync("airlock/imports", upload, "application/x-tar", ct).ConfigureAwait(false);
                }).ConfigureAwait(false))!.AsObject();
            }
            catch (AdminApiException e) when (e.Status == 422)
            {
                return await RejectedAsync(context, result.GetValue(json), e).ConfigureAwait(false);
            }

            return await ImportedAsync(context, result.GetValue(json), record).ConfigureAwait(false);
        }));
        return command;
    }

    private static Command Pull(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var mirror = new Option<string>("--mirror") { Description = "Base URL of the TUF repository mirror inside the enclave (BASE/metadata/, BASE/targets/).", Required = true };
        var kind = new Option<string>("--kind") { Description = "model, update, intel or dataset.", Required = true };
        var name = new Option<string>("--name") { Description = "The artifact's name.", Required = true };
        var version = new Option<string>("--version") { Description = "The artifact's version.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the import (or the rejection) as one JSON object." };
        var command = new Command("pull", "Have the enclave pull an artifact from a TUF mirror inside the enclave, verified exactly like an imported bundle; it then waits for approval (airlock-importer or admin).") { mirror, kind, name, version, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            JsonObject record;
            try
            {
                var body = new JsonObject
                {
                    ["mirror"] = result.GetValue(mirror),
                    ["kind"] = result.GetValue(kind),
                    ["name"] = result.GetValue(name),
                    ["version"] = result.GetValue(version),
                };
                record = (await client.PostAsync("airlock/pulls", body, ct).ConfigureAwait(false))!.AsObject();
            }
            catch (AdminApiException e) when (e.Status == 422)
            {
                return await RejectedAsync(context, result.GetValue(json), e).ConfigureAwait(false);
            }

            return await ImportedAsync(context, result.GetValue(json), record).ConfigureAwait(false);
        }));
        return command;
    }

    // The bundle was refused: the title names the attack ("Bundle rejected: rollback").
    private static async Task<ExitCode> RejectedAsync(CliContext context, bool json, AdminApiException e)
    {
        var code = e.Title.StartsWith("Bundle rejected: ", StringComparison.Ordinal) ? e.Title["Bundle rejected: ".Length..] : "rejected";
        var exitCode = ExitCodeTable.ForFamily<ImportRejection>();
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, new JsonObject
            {
                ["error"] = new JsonObject
                {
                    ["code"] = exitCode.ToString(),
                    ["exitCode"] = (int)exitCode,
                    ["rejection"] = code,
                    ["message"] = e.Detail,
                },
            }).ConfigureAwait(false);
        }

        // The server's detail is the importer's message, which already starts "import rejected (CODE): ": say it once.
        var detail = e.Detail;
        var repeated = $"import rejected ({code}): ";
        if (detail.StartsWith(repeated, StringComparison.Ordinal))
        {
            detail = detail[repeated.Length..];
        }

        await context.Error.WriteLineAsync($"error: bundle rejected ({code}): {detail}").ConfigureAwait(false);
        return exitCode;
    }

    private static async Task<ExitCode> ImportedAsync(CliContext context, bool json, JsonObject record)
    {
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, record).ConfigureAwait(false);
        }
        else
        {
            await context.Out.WriteLineAsync($"import {record["id"]}: {record["kind"]} {record["name"]} {record["version"]} (label {record["label"]}) {record["state"]}").ConfigureAwait(false);
            await context.Out.WriteLineAsync($"  {record["approvalsNeeded"]} approval(s) needed from airlock approvers other than {record["importer"]}: enclave airlock approve {record["id"]}").ConfigureAwait(false);
        }

        return ExitCode.Success;
    }

    private static Command List(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var state = new Option<string>("--state") { Description = "Only imports in this state." };
        state.AcceptOnlyFromAmong("verified", "activated", "rejected");
        var json = new Option<bool>("--json") { Description = "Print {\"imports\":[...]} for scripts." };
        var command = new Command("list", "List imports that passed verification, newest first: pending (verified), activated, rejected.") { state, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var filter = result.GetValue(state) is { } s ? "?state=" + s : string.Empty;
            var answer = (await client.GetAsync("airlock/imports" + filter, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var rows = answer["imports"]!.AsArray().Select(i => i!.AsObject()).Select(i => new[]
            {
                Text(i, "id"),
                Text(i, "state"),
                Text(i, "kind"),
                Text(i, "name"),
                Text(i, "version"),
                Text(i, "label"),
                $"{i["approvers"]!.AsArray().Count}/{i["requiredApprovals"]}",
                Text(i, "importer"),
            }).ToList();
            await context.Out.WriteAsync(UsersCommands.Table(["ID", "STATE", "KIND", "NAME", "VERSION", "LABEL", "APPROVALS", "IMPORTER"], rows)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>The findings of the import's SBOM against the enclave's data, as approvers see them before approving.</summary>
    private static IEnumerable<string> VulnerabilityLines(JsonObject? vulnerabilities)
    {
        if (vulnerabilities is null)
        {
            yield return "vulns       - (no SBOM)";
            yield break;
        }

        if (vulnerabilities["error"] is { } error)
        {
            yield return $"vulns       {error}";
            yield break;
        }

        yield return $"vulns       {vulnerabilities["data"]?["message"]}";
        if (vulnerabilities["findings"] is not JsonArray findings)
        {
            yield break;
        }

        var open = findings.Select(f => f!.AsObject()).Where(f => f["status"]?.GetValue<string>() is "affected" or "under_investigation").ToList();
        yield return $"            {findings.Count} findings, {open.Count} open, {open.Count(f => f["kev"] is JsonObject)} known exploited (KEV), {vulnerabilities["unknown"]} unknown";
        foreach (var f in findings.Select(f => f!.AsObject()))
        {
            var severity = f["severity"] is JsonObject s ? $"{s["score"]} {s["rating"]}" : "unscored";
            var kev = f["kev"] is JsonObject k ? $"  KEV {k["cve"]} due {k["dueDate"]}" : "";
            yield return $"  {f["id"]}  {f["component"]}  {severity}{kev}  {f["status"]}";
        }
    }

    private static Command Show(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The import ID (imp_...)." };
        var json = new Option<bool>("--json") { Description = "Print the import as one JSON object." };
        var command = new Command("show", "Show one import: artifact, label, digests, signers, approvals, targets.") { id, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var record = (await client.GetAsync("airlock/imports/" + Uri.EscapeDataString(result.GetValue(id)!), ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, record).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var lines = new List<string>
            {
                $"import      {Text(record, "id")}",
                $"state       {Text(record, "state")}" + (record["decidedBy"] is { } by ? $" by {by} at {record["decided"]}" : string.Empty),
                $"artifact    {Text(record, "kind")} {Text(record, "name")} {Text(record, "version")}" + (record["task"] is { } task ? $" ({task})" : string.Empty),
                $"label       {Text(record, "label")}",
                $"imported by {Text(record, "importer")} at {Text(record, "received")}",
                $"approvals   {record["approvers"]!.AsArray().Count} of {record["requiredApprovals"]}" + (record["approvers"]!.AsArray().Count > 0 ? ": " + string.Join(", ", record["approvers"]!.AsArray().Select(a => a!.GetValue<string>())) : string.Empty),
                $"signed by   {string.Join(", ", record["signerKeyIds"]!.AsArray().Select(k => k!.GetValue<string>()))}",
                $"manifest    sha256:{Text(record, "manifestSha256")}",
                $"sbom        {(record["sbomSha256"] is { } sbom ? "sha256:" + sbom : "-")}",
                $"provenance  {(record["provenanceSha256"] is { } provenance ? "sha256:" + provenance : "-")}",
                $"size        {record["archiveBytes"]} bytes",
            };
            lines.AddRange(RoleSignerLines(record["roleSigners"] as JsonArray));
            foreach (var reason in record["reasons"]!.AsArray())
            {
                lines.Add($"reason      {reason}");
            }

            lines.Add("targets");
            foreach (var target in record["targets"]!.AsArray().Select(t => t!.AsObject()))
            {
                lines.Add($"  {Text(target, "path")}  {target["length"]} bytes  sha256:{Text(target, "sha256")}");
            }

            lines.AddRange(VulnerabilityLines(record["vulnerabilities"] as JsonObject));

            await context.Out.WriteLineAsync(string.Join('\n', lines)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    // Every TUF role that verified the import: version, threshold, and the key IDs whose signatures verified; an import
    // made before they were recorded says so.
    private static IEnumerable<string> RoleSignerLines(JsonArray? roles)
    {
        if (roles is null)
        {
            yield return "tuf roles   not recorded (imported before this release)";
            yield break;
        }

        yield return "tuf roles   role, version, threshold, verified signatures by key ID";
        var width = roles.Select(r => Text(r!.AsObject(), "role").Length).DefaultIfEmpty(0).Max();
        foreach (var role in roles.Select(r => r!.AsObject()))
        {
            var keys = role["keyIds"]!.AsArray().Select(k => k!.GetValue<string>()).ToList();
            yield return $"  {Text(role, "role").PadRight(width)}  version {role["version"]}  threshold {role["threshold"]}  signed by {(keys.Count == 0 ? "none" : string.Join(", ", keys))}";
        }
    }

    private static Command Approve(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The import ID (imp_...)." };
        var json = new Option<bool>("--json") { Description = "Print the import as one JSON object." };
        var command = new Command("approve", "Approve a pending import (airlock-approver or admin; not its importer). The last approval needed activates it.") { id, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var record = (await client.PostAsync($"airlock/imports/{Uri.EscapeDataString(result.GetValue(id)!)}/approve", null, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, record).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var approvals = $"{record["approvers"]!.AsArray().Count} of {record["requiredApprovals"]} approvals";
            if (Text(record, "state") == "activated")
            {
                await context.Out.WriteLineAsync($"import {record["id"]} activated ({approvals}): {record["kind"]} {record["name"]} {record["version"]}").ConfigureAwait(false);
                if (record["served"] is JsonObject served)
                {
                    await context.Out.WriteLineAsync($"  served as model '{served["model"]}' ({served["kind"]}) in /v1/models").ConfigureAwait(false);
                }

                if (record["warning"] is { } warning)
                {
                    await context.Error.WriteLineAsync("warning: " + warning).ConfigureAwait(false);
                }
            }
            else if (record["alreadyApprovedBy"] is JsonValue by)
            {
                await context.Out.WriteLineAsync($"import {record["id"]} was already approved by {by}; an approval counts once ({approvals}); {record["approvalsNeeded"]} more needed from other approvers").ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"import {record["id"]} approved ({approvals}); {record["approvalsNeeded"]} more needed from other approvers").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Reject(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The import ID (imp_...)." };
        var reason = new Option<string>("--reason") { Description = "Why (recorded in the ledger).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the import as one JSON object." };
        var command = new Command("reject", "Reject a pending import: its quarantined files are removed and it can never be activated.") { id, reason, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var record = (await client.PostAsync($"airlock/imports/{Uri.EscapeDataString(result.GetValue(id)!)}/reject", new JsonObject { ["reason"] = result.GetValue(reason) }, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, record).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"import {record["id"]} rejected by {record["decidedBy"]}; its files were removed").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }


    private static string Text(JsonObject node, string name) => node[name]?.GetValue<string>() ?? "-";
}
