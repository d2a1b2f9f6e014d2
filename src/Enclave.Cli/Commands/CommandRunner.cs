using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Cli.Commands;

/// <summary>Runs a command body and turns the expected failures into a message and a named exit code (<see cref="ExitCodeTable"/>).</summary>
internal static class CommandRunner
{
    // Relaxed escaping writes '+' and '/' of base64 hashes literally, as Go's tlog.Hash JSON decoder requires; the output
    // is for scripts and terminals, never embedded in HTML.
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> RunAsync(CliContext context, bool json, Func<Task<ExitCode>> body)
    {
        CliFailure failure;
        try
        {
            return (int)await body().ConfigureAwait(false);
        }
        catch (Exception ex) when (ExitCodeTable.Map(ex) is { } mapped)
        {
            failure = mapped;
        }

        if (json)
        {
            var error = new JsonObject { ["code"] = failure.Code.ToString(), ["exitCode"] = (int)failure.Code };
            if (failure.Reason is { } reason)
            {
                error["reason"] = reason;
            }

            error["message"] = failure.Message;
            await context.Out.WriteLineAsync(new JsonObject { ["error"] = error }.ToJsonString(JsonOptions)).ConfigureAwait(false);
        }

        await context.Error.WriteLineAsync($"error: {failure.Message}").ConfigureAwait(false);
        return (int)failure.Code;
    }

    public static Task WriteJsonAsync(CliContext context, JsonNode node) => context.Out.WriteLineAsync(node.ToJsonString(JsonOptions));
}
