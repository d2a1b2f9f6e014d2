using System.CommandLine;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave policy ...</c>: what the request policy decides, asked of the running enclave.</summary>
internal static class PolicyCommands
{
    public static Command Create(CliContext context)
    {
        var policy = new Command("policy", "The request policy: labels, clearances, backends, egress.");
        policy.Subcommands.Add(Explain(context));
        return policy;
    }

    private static Command Explain(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var user = new Option<string>("--user") { Description = "The user or service account (ID such as user:alice, or name).", Required = true };
        var model = new Option<string>("--model") { Description = "The model the request would name.", Required = true };
        var label = new Option<string>("--label") { Description = "The request's label (marking syntax, e.g. 'SECRET//NOFORN'); default: the configured default label." };
        var backend = new Option<string>("--backend") { Description = "Consider only this backend of the model." };
        var json = new Option<bool>("--json") { Description = "Print the server's JSON answer for scripts." };
        var command = new Command("explain", "Show the decision and every reason for a user, a model and a label, without sending a request (roles admin, auditor).")
        {
            user, model, label, backend, json,
        };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var request = new JsonObject
            {
                ["user"] = result.GetValue(user),
                ["model"] = result.GetValue(model),
                ["label"] = result.GetValue(label),
                ["backend"] = result.GetValue(backend),
            };
            var answer = await client.PostAsync("policy/explain", request, ct).ConfigureAwait(false) as JsonObject
                ?? throw new AdminApiException(502, "Bad answer", "the server's explanation is not a JSON object");
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteLineAsync(Render(answer)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static string Render(JsonObject answer)
    {
        static string S(JsonNode? n) => n?.GetValue<string>() ?? "-";
        var lines = new List<string>
        {
            answer["allowed"]?.GetValue<bool>() == true ? "decision: ALLOW" : $"decision: DENY by {S(answer["rule"])}",
            $"user:     {S(answer["user"]?["id"])} (clearance {S(answer["user"]?["clearance"])})",
            $"model:    {S(answer["model"])} (label {S(answer["modelLabel"])})",
            $"request:  {S(answer["requestLabel"])} ({S(answer["labelSource"])})",
            "backends:",
        };
        foreach (var b in answer["backends"]?.AsArray() ?? [])
        {
            var egress = b?["leavesEnclave"]?.GetValue<bool>() == true ? $", leaves the enclave (egress: {S(b["egressAction"])})" : string.Empty;
            lines.Add($"  {(b?["allowed"]?.GetValue<bool>() == true ? "allowed " : "excluded")} {S(b?["name"])}: accredited {S(b?["accreditation"])}, jurisdiction {S(b?["jurisdiction"])}{egress}");
        }

        var reasons = answer["reasons"]?.AsArray() ?? [];
        if (reasons.Count > 0)
        {
            lines.Add("reasons:");
            foreach (var r in reasons)
            {
                lines.Add($"  [{S(r?["rule"])}] {S(r?["message"])}");
            }
        }

        return string.Join(Environment.NewLine, lines);
    }
}
