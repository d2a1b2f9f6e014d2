using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave upgrade status|stage|apply|rollback</c>: Enclave releases from activated <c>update</c> bundles, through the
/// running server's admin API (<c>/admin/v1/upgrade</c>, role admin). See docs/upgrade.md.
/// </summary>
internal static class UpgradeCommands
{
    public static Command Create(CliContext context)
    {
        var upgrade = new Command("upgrade", "Upgrade Enclave from update bundles brought in through the airlock: stage a release, see which findings it resolves, apply it, roll back.");
        upgrade.Subcommands.Add(Status(context));
        upgrade.Subcommands.Add(Stage(context));
        upgrade.Subcommands.Add(Apply(context));
        upgrade.Subcommands.Add(Rollback(context));
        return upgrade;
    }

    private static Command Status(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var json = TrustCommands.JsonOption();
        var command = new Command("status", "Show the running, current, previous and staged releases, the activated update bundles, and which open findings the staged release resolves.") { json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("upgrade", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine($"install root  {VulnsCommands.Str(answer["installRoot"])}");
            text.AppendLine($"running       {VulnsCommands.Str(answer["running"])}");
            text.AppendLine($"current       {Release(answer["current"])}");
            text.AppendLine($"previous      {Release(answer["previous"])}");
            text.AppendLine($"staged        {Release(answer["staged"])}");
            var available = answer["available"]!.AsArray();
            text.AppendLine($"available     {(available.Count == 0 ? "no activated update bundle" : string.Join(", ", available.Select(a => $"{VulnsCommands.Str(a!["version"])} ({VulnsCommands.Str(a["importId"])})")))}");
            if (answer["comparison"] is JsonObject comparison)
            {
                AppendComparison(text, comparison);
            }

            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Stage(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var version = new Argument<string?>("version") { Description = "The version of an activated update bundle.", Arity = ArgumentArity.ZeroOrOne };
        var import = new Option<string?>("--import") { Description = "The update bundle's import ID (imp_...) instead of its version." };
        var json = TrustCommands.JsonOption();
        var command = new Command("stage", "Install an activated update bundle as the staged release (files checked against the airlock's digests, 'enclave version' self-check) and show which open findings it resolves; recorded as upgrade.staged.") { version, import, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            if ((result.GetValue(version) is null) == (result.GetValue(import) is null))
            {
                throw new ArgumentException("name the update by its VERSION or by --import ID (one of them)");
            }

            using var client = connection.CreateClient(result);
            var body = new JsonObject { ["version"] = result.GetValue(version), ["importId"] = result.GetValue(import) };
            var answer = (await client.PostAsync("upgrade/stage", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine($"staged release {VulnsCommands.Str(answer["version"])} in {VulnsCommands.Str(answer["path"])} (ledger index {VulnsCommands.Str(answer["ledgerIndex"])})");
            AppendComparison(text, answer["comparison"]!.AsObject());
            text.AppendLine("apply it with: enclave upgrade apply");
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Apply(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var version = new Argument<string?>("version") { Description = "The staged version (optional: a guard against applying another one).", Arity = ArgumentArity.ZeroOrOne };
        var json = TrustCommands.JsonOption();
        var command = new Command("apply", "Make the staged release current (its files and self-check checked again; 'current' switched atomically, the old release kept as 'previous'); recorded as upgrade.applied. Restart the service to run it.") { version, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.PostAsync("upgrade/apply", new JsonObject { ["version"] = result.GetValue(version) }, ct).ConfigureAwait(false))!.AsObject();
            await PrintSwitchAsync(context, answer, "applied", result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Rollback(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var json = TrustCommands.JsonOption();
        var command = new Command("rollback", "Make the previous release current again (checked as apply does); recorded as upgrade.rolled_back. Restart the service to run it.") { json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.PostAsync("upgrade/rollback", new JsonObject(), ct).ConfigureAwait(false))!.AsObject();
            await PrintSwitchAsync(context, answer, "rolled back", result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static async Task PrintSwitchAsync(CliContext context, JsonObject answer, string what, bool json)
    {
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
            return;
        }

        await context.Out.WriteLineAsync($"{what}: current release is now {VulnsCommands.Str(answer["to"])} (was {VulnsCommands.Str(answer["from"])}; ledger index {VulnsCommands.Str(answer["ledgerIndex"])}); restart the service to run it").ConfigureAwait(false);
    }

    private static void AppendComparison(StringBuilder text, JsonObject comparison)
    {
        text.AppendLine($"data          {VulnsCommands.Str(comparison["data"]?["message"])}");
        if (comparison["resolves"] is not JsonArray resolves)
        {
            text.AppendLine($"resolves      unknown: {VulnsCommands.Str(comparison["problem"])}");
            return;
        }

        text.AppendLine($"resolves      {(resolves.Count == 0 ? "no open finding" : $"{resolves.Count} open finding(s)")}");
        foreach (var f in resolves.Select(f => f!.AsObject()))
        {
            text.AppendLine($"  {VulnsCommands.Str(f["id"])}  {VulnsCommands.Str(f["component"])}  {(f["severity"] is JsonObject s ? VulnsCommands.Str(s["rating"]) : "-")}{(f["kev"] is JsonObject k ? "  KEV " + VulnsCommands.Str(k["cve"]) : "")}");
        }

        if (comparison["introduces"] is JsonArray { Count: > 0 } introduces)
        {
            text.AppendLine($"introduces    {introduces.Count} open finding(s)");
            foreach (var f in introduces.Select(f => f!.AsObject()))
            {
                text.AppendLine($"  {VulnsCommands.Str(f["id"])}  {VulnsCommands.Str(f["component"])}");
            }
        }
    }

    private static string Release(JsonNode? node) => node is JsonObject r
        ? $"{VulnsCommands.Str(r["version"])} ({VulnsCommands.Str(r["path"])}{(r["importId"] is { } id ? ", from " + VulnsCommands.Str(id) : "")})"
        : "-";
}
