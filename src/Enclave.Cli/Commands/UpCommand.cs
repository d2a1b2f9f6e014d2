using System.CommandLine;
using System.Text.Json.Nodes;
using Enclave.Core.Storage;
using Enclave.Inference.Forge;
using Enclave.Server.Hosting;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave up</c>: the whole enclave with embedded defaults. Forges the demo models on first use, registers them,
/// starts the server and prints the URL, an API key and a working curl line.
/// </summary>
internal static class UpCommand
{
    public const string ChatModel = "enclave-demo-chat";
    public const string EmbeddingModel = "enclave-demo-embed";

    /// <summary>The demo's admin key, kept (owner-only) under keys/ in the data directory so each <c>up</c> prints a working key.</summary>
    private const string DemoKeyFile = "demo-api-key";

    public static Command Create(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory.", DefaultValueFactory = _ => "./enclave-data" };
        var urls = new Option<string[]>("--urls") { Description = "Addresses to listen on.", DefaultValueFactory = _ => ["http://127.0.0.1:8080"] };
        var config = new Option<string>("--config") { Description = "JSON configuration (upstream backends, models)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line {url, apiKey, chatModel, embeddingModel} once the server is ready." };
        var command = new Command("up", "Start the enclave with embedded defaults (SQLite in ./enclave-data) and a demo model.") { data, urls, config, json };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var dataDir = result.GetValue(data)!;
            var settings = new ServerSettings { DataDirectory = dataDir, Urls = result.GetValue(urls)! };
            var problems = settings.Validate();
            if (problems.Count > 0)
            {
                throw new ArgumentException("cannot start:\n- " + string.Join("\n- ", problems));
            }

            using (DataDirectoryLock.Acquire(dataDir, "enclave up (preparing)", context.Clock))
            {
                PrepareDemoModels(context, dataDir);
            }

            await ServeCommand.RunAsync(context, settings, result.GetValue(config), async start =>
            {
                var url = start.Urls[0];
                var apiKey = start.AdminKey ?? "(none: see the warning above)";
                if (result.GetValue(json))
                {
                    await CommandRunner.WriteJsonAsync(context, new JsonObject
                    {
                        ["url"] = url,
                        ["apiKey"] = apiKey,
                        ["chatModel"] = ChatModel,
                        ["embeddingModel"] = EmbeddingModel,
                    }).ConfigureAwait(false);
                    await context.Out.FlushAsync(ct).ConfigureAwait(false);
                    return;
                }

                var body = $$"""{"model":"{{ChatModel}}","messages":[{"role":"user","content":"Hello!"}]}""";
                await context.Out.WriteLineAsync($"""

                    Enclave is running at {url}
                      API key:  {apiKey}
                      models:   {ChatModel} (chat), {EmbeddingModel} (embeddings)
                      ledger:   every request is recorded in {Path.GetFullPath(dataDir)}; audit with 'enclave ledger verify --data {dataDir}'

                    Try it:
                      curl -s {url}/v1/chat/completions -H "Authorization: Bearer {apiKey}" -H "Content-Type: application/json" -d '{body}'

                    The demo model has random weights: its answers are noise. The README shows how to serve a real model.
                    Press Ctrl+C to stop.
                    """).ConfigureAwait(false);
            }, ct, adminKeyFile: Path.Combine(dataDir, "keys", DemoKeyFile)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static void PrepareDemoModels(CliContext context, string dataDir)
    {
        var registry = new LocalModelRegistry(dataDir, context.Clock);
        var registered = registry.List().Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (id, kind) in new[] { (ChatModel, "chat"), (EmbeddingModel, "embedding") })
        {
            if (registered.Contains(id))
            {
                continue;
            }

            var dir = Path.Combine(dataDir, "models", id);
            if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any())
            {
                context.Error.WriteLine($"forging the demo {kind} model in {dir} (random weights, for demonstration only)");
                var options = new ForgeOptions { Seed = 2026 };
                _ = kind == "chat" ? ModelForge.ForgeDecoder(dir, options) : ModelForge.ForgeEmbedding(dir, options);
            }

            registry.Add(id, kind, dir, "demo:forged");
        }
    }
}
