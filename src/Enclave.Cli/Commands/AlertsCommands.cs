using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Intel.Alerts;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave alerts list|show|ack|resolve</c>: the alerts raised by intel, detections, insider analytics and
/// vulnerability findings, through the running server's admin API (list and show: admin, auditor or analyst;
/// ack and resolve: admin, each a ledger entry).
/// </summary>
internal static class AlertsCommands
{
    public static Command Create(CliContext context)
    {
        var alerts = new Command("alerts", "Alerts raised by intel, detections, insider analytics and vulnerability findings, and their lifecycle (open, acknowledged, resolved, false-positive).");
        alerts.Subcommands.Add(List(context));
        alerts.Subcommands.Add(Show(context));
        alerts.Subcommands.Add(Acknowledge(context));
        alerts.Subcommands.Add(Resolve(context));
        return alerts;
    }

    private static Command List(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var state = new Option<string[]>("--state") { Description = "Only alerts in these states (repeatable): " + string.Join(", ", AlertNames.States) + ".", AllowMultipleArgumentsPerToken = true };
        state.AcceptOnlyFromAmong([.. AlertNames.States]);
        var kind = new Option<string>("--kind") { Description = "Only alerts of this kind." };
        kind.AcceptOnlyFromAmong([.. AlertNames.Kinds]);
        var severity = new Option<string>("--severity") { Description = "Only alerts at least this severe." };
        severity.AcceptOnlyFromAmong([.. AlertNames.Severities]);
        var limit = new Option<int>("--limit") { Description = $"At most this many, newest first (1 to {AlertFilter.MaxLimit}).", DefaultValueFactory = _ => 100 };
        var json = new Option<bool>("--json") { Description = "Print {\"alerts\":[...]} for scripts." };
        var command = new Command("list", "List alerts, newest first.") { state, kind, severity, limit, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var query = new List<string> { "limit=" + result.GetValue(limit).ToString(CultureInfo.InvariantCulture) };
            if (result.GetValue(state) is { Length: > 0 } states)
            {
                query.Add("state=" + string.Join(',', states));
            }

            if (result.GetValue(kind) is { } k)
            {
                query.Add("kind=" + k);
            }

            if (result.GetValue(severity) is { } s)
            {
                query.Add("severity=" + s);
            }

            var answer = (await client.GetAsync("alerts?" + string.Join('&', query), ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var rows = answer["alerts"]!.AsArray().Select(a => a!.AsObject()).Select(a => new[]
            {
                Text(a, "id"),
                Text(a, "state"),
                Text(a, "severity"),
                Text(a, "kind"),
                Text(a, "raised"),
                Text(a, "subject"),
                Text(a, "title"),
            }).ToList();
            if (rows.Count == 0)
            {
                await context.Out.WriteLineAsync("no alerts match").ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteAsync(UsersCommands.Table(["ID", "STATE", "SEVERITY", "KIND", "RAISED", "SUBJECT", "TITLE"], rows)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Show(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The alert ID (alert_...)." };
        var json = new Option<bool>("--json") { Description = "Print the alert as one JSON object." };
        var command = new Command("show", "Show one alert: what was seen, its evidence (ledger indices, facts) and its lifecycle.") { id, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var alert = (await client.GetAsync("alerts/" + Uri.EscapeDataString(result.GetValue(id)!), ct).ConfigureAwait(false))!.AsObject();
            await WriteAlertAsync(context, alert, result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Acknowledge(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The alert ID (alert_...)." };
        var note = new Option<string>("--note") { Description = "What you are doing about it (kept in the ledger entry)." };
        var json = new Option<bool>("--json") { Description = "Print the alert as one JSON object." };
        var command = new Command("ack", "Acknowledge an open alert (admin; recorded in the ledger as alert.acknowledged).") { id, note, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var body = new JsonObject();
            if (result.GetValue(note) is { } n)
            {
                body["note"] = n;
            }

            var alert = (await client.PostAsync($"alerts/{Uri.EscapeDataString(result.GetValue(id)!)}/ack", body, ct).ConfigureAwait(false))!.AsObject();
            await WriteAlertAsync(context, alert, result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Resolve(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The alert ID (alert_...)." };
        var reason = new Option<string>("--reason") { Description = "Why it is resolved (kept in the ledger entry).", Required = true };
        var falsePositive = new Option<bool>("--false-positive") { Description = "Mark it a false positive instead of resolved." };
        var json = new Option<bool>("--json") { Description = "Print the alert as one JSON object." };
        var command = new Command("resolve", "Resolve an open or acknowledged alert, or mark it a false positive (admin; recorded in the ledger as alert.resolved).") { id, reason, falsePositive, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var body = new JsonObject
            {
                ["reason"] = result.GetValue(reason),
                ["resolution"] = result.GetValue(falsePositive) ? "false-positive" : "resolved",
            };
            var alert = (await client.PostAsync($"alerts/{Uri.EscapeDataString(result.GetValue(id)!)}/resolve", body, ct).ConfigureAwait(false))!.AsObject();
            await WriteAlertAsync(context, alert, result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static async Task WriteAlertAsync(CliContext context, JsonObject alert, bool json)
    {
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, alert).ConfigureAwait(false);
            return;
        }

        var output = context.Out;
        await output.WriteLineAsync($"{Text(alert, "id")}  {Text(alert, "state")}  {Text(alert, "severity")}  {Text(alert, "kind")}").ConfigureAwait(false);
        await output.WriteLineAsync($"  {Text(alert, "title")}").ConfigureAwait(false);
        await output.WriteLineAsync($"  subject:  {Text(alert, "subject")}").ConfigureAwait(false);
        await output.WriteLineAsync($"  raised:   {Text(alert, "raised")} by {Text(alert, "raisedBy")} (ledger index {alert["raisedIndex"]})").ConfigureAwait(false);
        if (alert["updated"] is not null)
        {
            await output.WriteLineAsync($"  changed:  {Text(alert, "updated")} by {Text(alert, "updatedBy")} (ledger index {alert["updatedIndex"]}){(alert["reason"] is null ? string.Empty : ": " + Text(alert, "reason"))}").ConfigureAwait(false);
        }

        var evidence = alert["evidence"]!.AsObject();
        await output.WriteLineAsync($"  evidence: {Text(evidence, "summary")}").ConfigureAwait(false);
        var indices = evidence["ledgerIndices"]!.AsArray();
        if (indices.Count > 0)
        {
            await output.WriteLineAsync($"  ledger:   {string.Join(", ", indices.Select(i => i!.ToJsonString()))}").ConfigureAwait(false);
        }

        foreach (var (name, value) in evidence["facts"]!.AsObject())
        {
            await output.WriteLineAsync($"  {name}: {value}").ConfigureAwait(false);
        }
    }

    private static string Text(JsonObject node, string name) => node[name]?.GetValue<string>() ?? "-";
}
