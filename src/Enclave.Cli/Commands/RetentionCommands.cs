using System.CommandLine;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.State.Retention;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave retention keygen|show</c>: the key for encrypted content retention, and reading a retained request.</summary>
internal static class RetentionCommands
{
    public static Command Create(CliContext context)
    {
        var retention = new Command("retention", "Encrypted retention of prompts and answers (off unless configured: Retention:Enabled, Days, KeyFile).");
        retention.Subcommands.Add(KeyGen(context));
        retention.Subcommands.Add(Show(context));
        return retention;
    }

    private static Command KeyGen(CliContext context)
    {
        var output = new Option<string>("--out") { Description = "Where to write the key (mode 0600; never overwritten). Keep it off the data directory's volume.", Required = true };
        var command = new Command("keygen", "Create a 256-bit content-retention key file.") { output };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, false, async () =>
        {
            var path = result.GetValue(output)!;
            RetentionKey.Generate(path);
            await context.Out.WriteLineAsync($"wrote a retention key to {path} (key ID {RetentionKey.Id(RetentionKey.Load(path))}); set Retention:KeyFile to it").ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Show(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var index = new Argument<long>("INDEX") { Description = "The ledger index of the request's request.admitted entry (its Enclave-Ledger-Index header)." };
        var json = new Option<bool>("--json") { Description = "Print the server's JSON answer." };
        var command = new Command("show", "Show a retained prompt and answer (admin or auditor; the read is recorded in the ledger).") { index, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = await client.GetAsync($"retention/{result.GetValue(index)}", ct).ConfigureAwait(false) as JsonObject
                ?? throw new InvalidDataException("the server sent no record");
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteLineAsync($"request {answer["requestId"]} by {answer["actor"]}, kept until {answer["expires"]}").ConfigureAwait(false);
            await context.Out.WriteLineAsync($"prompt (sha256 {answer["promptSha256"]}):").ConfigureAwait(false);
            await context.Out.WriteLineAsync(answer["prompt"]?.ToJsonString() ?? "null").ConfigureAwait(false);
            await context.Out.WriteLineAsync($"answer (sha256 {answer["answerSha256"]}):").ConfigureAwait(false);
            await context.Out.WriteLineAsync(answer["answer"]?.ToJsonString() ?? "null").ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }
}
