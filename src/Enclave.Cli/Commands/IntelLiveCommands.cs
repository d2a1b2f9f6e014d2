using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Core;
using Enclave.Intel.Stix;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave intel status|hunt|export</c>: the threat intelligence applied in the running enclave, through its admin
/// API (status and export for admins, auditors and analysts; hunt for admins).
/// </summary>
internal static class IntelLiveCommands
{
    public static void AddTo(Command intel, CliContext context)
    {
        intel.Subcommands.Add(Status(context));
        intel.Subcommands.Add(Hunt(context));
        intel.Subcommands.Add(Export(context));
    }

    private static Command Status(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print the admin API's answer as JSON." };
        var command = new Command("status", "Show the indicators in force in the running enclave: live, not evaluable, inactive; the intel bundles loaded.") { json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("intel", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"indicators: {answer["live"]} live, {answer["notEvaluable"]} not evaluable, {answer["inactive"]} revoked or outside their validity")).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"newest load: {answer["newestLoad"]?.GetValue<string>() ?? "none"}").ConfigureAwait(false);
            var rows = answer["sources"]!.AsArray().Select(s => s!.AsObject()).Select(s => new[]
            {
                s["importId"]!.GetValue<string>(),
                s["name"]!.GetValue<string>(),
                s["version"]!.GetValue<string>(),
                s["loaded"]!.GetValue<string>(),
                s["indicators"]!.ToJsonString(),
                s["notEvaluable"]!.ToJsonString(),
            }).ToList();
            if (rows.Count > 0)
            {
                await context.Out.WriteAsync(UsersCommands.Table(["IMPORT", "NAME", "VERSION", "LOADED", "INDICATORS", "NOT EVALUABLE"], rows)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Hunt(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var from = new Option<long?>("--from") { Description = "First ledger index to hunt (default 0)." };
        var to = new Option<long?>("--to") { Description = "Ledger index to stop before (default the ledger's size)." };
        var json = new Option<bool>("--json") { Description = "Print {\"from\",\"to\",\"entries\",\"hits\",\"alerts\"}." };
        var command = new Command("hunt", "Match the live indicators against the whole ledger history (past imports' digests, requests' addresses, users and principals); each past hit is an alert (admin).") { from, to, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var body = new JsonObject();
            if (result.GetValue(from) is { } f)
            {
                body["from"] = f;
            }

            if (result.GetValue(to) is { } t)
            {
                body["to"] = t;
            }

            var answer = (await client.PostAsync("intel/hunt", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"hunted ledger entries {answer["from"]} to {answer["to"]} ({answer["entries"]} read): {answer["hits"]} hit(s), {answer["alerts"]} new alert(s); see enclave alerts list --kind intel")).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Export(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var output = new Option<string>("--out") { Description = "The file to write the STIX 2.1 bundle of sightings to.", Required = true };
        var command = new Command("export", "Write the enclave's sightings (alerts from indicator hits) as a STIX 2.1 bundle of sighting objects, to carry out to the connected SOC.") { output };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, false, async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("intel/sightings", ct).ConfigureAwait(false))!.AsObject();
            var bytes = JsonSerializer.SerializeToUtf8Bytes(answer, new JsonSerializerOptions { WriteIndented = true });

            // What is written must read back as a STIX bundle: checked before the file is made.
            try
            {
                _ = new StixBundleReader().Read(bytes, "sightings");
            }
            catch (StixRejectedException ex)
            {
                throw new EnclaveFormatException("the server's sightings are not a valid STIX bundle: " + ex.Message, ex);
            }

            var path = result.GetValue(output)!;
            await File.WriteAllBytesAsync(path, bytes, ct).ConfigureAwait(false);
            var sightings = answer["objects"]!.AsArray().Count(o => o?["type"]?.GetValue<string>() == "sighting");
            await context.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"wrote {sightings} sighting(s) to {path}")).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }
}
