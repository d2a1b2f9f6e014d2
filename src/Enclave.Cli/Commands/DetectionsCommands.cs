using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave detections status</c>: the live detections of the running server (Sigma rules from intel bundles and
/// insider analytics on the ledger's append feed): rules live, cursor, lag, alerts raised. Admin, auditor or analyst.
/// </summary>
internal static class DetectionsCommands
{
    public static Command Create(CliContext context)
    {
        var detections = new Command("detections", "Live detections on the audit stream: Sigma rules from intel bundles and insider analytics.");
        detections.Subcommands.Add(Status(context));
        return detections;
    }

    private static Command Status(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print the status as one JSON object." };
        var command = new Command("status", "Show whether detections run, the Sigma rule sets live, the ledger index scored next, the lag and the alerts raised since the server started.") { json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var status = (await client.GetAsync("detections", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, status).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var enabled = status["enabled"]!.GetValue<bool>();
            var o = context.Out;
            await o.WriteLineAsync(enabled ? "detections: on" : "detections: off (Detections:Enabled is false)").ConfigureAwait(false);
            await o.WriteLineAsync(Invariant($"sigma: {(status["sigma"]!["enabled"]!.GetValue<bool>() ? "on" : "off")}, {status["liveRules"]} rules live, {status["sigma"]!["alertsRaised"]} alerts raised")).ConfigureAwait(false);
            await o.WriteLineAsync(Invariant($"insider: {(status["insider"]!["enabled"]!.GetValue<bool>() ? "on" : "off")}, {status["insider"]!["alertsRaised"]} alerts raised, {status["insider"]!["replayed"]} entries replayed at start")).ConfigureAwait(false);
            await o.WriteLineAsync(Invariant($"cursor: ledger index {status["cursor"]} of {status["ledgerSize"]} (lag {status["lag"]}); {status["processed"]} entries scored since start")).ConfigureAwait(false);
            var sets = status["ruleSets"]!.AsArray().Select(s => s!.AsObject()).Select(s => new[]
            {
                s["name"]!.GetValue<string>(),
                s["version"]!.GetValue<string>(),
                s["importId"]!.GetValue<string>(),
                s["rules"]!.ToJsonString(),
                s["skipped"]!.ToJsonString(),
                s["loaded"]!.GetValue<string>(),
            }).ToList();
            if (sets.Count == 0)
            {
                await o.WriteLineAsync("no Sigma rule sets: bring one in through the airlock as an intel bundle holding *.yml rules (product: enclave)").ConfigureAwait(false);
            }
            else
            {
                await o.WriteAsync(UsersCommands.Table(["RULE SET", "VERSION", "IMPORT", "RULES", "SKIPPED", "LOADED"], sets)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
