using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Scanners;
using Enclave.Core.Storage;
using Enclave.Inference.Forge;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Inference.Text;
using Enclave.Server.Hosting;
using Enclave.State;
using Enclave.State.Airlock;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave models ...</c>: forge test models, register local models (development), inspect tokenizers.</summary>
internal static class ModelsCommands
{
    public static Command Create(CliContext context)
    {
        var models = new Command("models", "Models served by the built-in ONNX engine.");
        models.Subcommands.Add(Forge(context));
        models.Subcommands.Add(Add(context));
        models.Subcommands.Add(List(context));
        models.Subcommands.Add(Tokenize(context));
        return models;
    }

    private static Command Forge(CliContext context)
    {
        var output = new Option<string>("--out") { Description = "Folder to write the model to (must not exist or be empty).", Required = true };
        var layers = new Option<int>("--layers") { Description = "Decoder layers.", DefaultValueFactory = _ => 2 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size.", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 4 };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary size.", DefaultValueFactory = _ => 512 };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed gives the same bytes.", DefaultValueFactory = _ => 1 };
        var embedding = new Option<bool>("--embedding") { Description = "Forge an embedding model instead of a decoder (BERT-style in ONNX; a mean-pooled llama in GGUF)." };
        var format = new Option<string>("--format") { Description = "onnx (the Optimum layout) or gguf (one llama-architecture model.gguf for llama.cpp).", DefaultValueFactory = _ => "onnx" };
        format.AcceptOnlyFromAmong("onnx", "gguf");
        var weights = new Option<string>("--weights") { Description = "GGUF only: how the matrices are stored, f32, f16 or q4_0.", DefaultValueFactory = _ => "f16" };
        weights.AcceptOnlyFromAmong("f32", "f16", "q4_0");
        var template = new Option<string>("--template") { Description = "GGUF only: the chat template, qwen2.5 (takes tools) or chatml (takes none).", DefaultValueFactory = _ => "qwen2.5" };
        template.AcceptOnlyFromAmong("qwen2.5", "chatml");
        var json = new Option<bool>("--json") { Description = "Print one JSON object for scripts." };
        var command = new Command("forge", "Write a small random-weight model in the Hugging Face Optimum ONNX layout (or as a GGUF file), for tests and demos. Its text is noise.")
        {
            output, layers, hidden, heads, vocab, seed, embedding, format, weights, template, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var options = new ForgeOptions
            {
                Layers = result.GetValue(layers),
                Hidden = result.GetValue(hidden),
                Heads = result.GetValue(heads),
                Vocab = result.GetValue(vocab),
                Seed = result.GetValue(seed),
            };
            var dir = result.GetValue(output)!;
            var gguf = result.GetValue(format) == "gguf";
            var weightType = result.GetValue(weights) switch { "f32" => GgufWeightType.F32, "q4_0" => GgufWeightType.Q4_0, _ => GgufWeightType.F16 };
            var forged = gguf ? ModelForge.ForgeGguf(dir, options, weightType, result.GetValue(embedding), result.GetValue(template) == "chatml" ? ForgedChatTemplate.ChatMl : ForgedChatTemplate.Qwen25)
                : result.GetValue(embedding) ? ModelForge.ForgeEmbedding(dir, options) : ModelForge.ForgeDecoder(dir, options);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, JsonSerializer.SerializeToNode(forged)!).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"forged a{(gguf ? " GGUF" : "n ONNX")} {(result.GetValue(embedding) ? "embedding" : "decoder")} model in {dir} ({forged.Parameters:N0} parameters); its output is noise").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Add(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory.", DefaultValueFactory = _ => "./enclave-data" };
        var name = new Option<string>("--name") { Description = "The model name clients will use.", Required = true };
        var kind = new Option<string>("--kind") { Description = "chat or embedding.", DefaultValueFactory = _ => "chat" };
        var dev = new Option<bool>("--dev") { Description = "Required: registering a folder bypasses the airlock, so it is for development only." };
        var dir = new Argument<string>("DIR") { Description = "A model folder in the Optimum ONNX layout." };
        var command = new Command("add", "Register a local model folder (development only, until models arrive through the airlock). The server must be stopped.")
        {
            data, name, kind, dev, dir,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, false, async () =>
        {
            if (!result.GetValue(dev))
            {
                throw new ArgumentException("models enter the enclave through the airlock; registering a folder directly needs --dev (development only)");
            }

            var dataDir = result.GetValue(data)!;
            using var writer = DataDirectoryLock.Acquire(dataDir, "enclave models add", context.Clock);
            var record = new LocalModelRegistry(dataDir, context.Clock).Add(result.GetValue(name)!, result.GetValue(kind)!, result.GetValue(dir)!, "dev:folder");
            await context.Out.WriteLineAsync($"registered {record.Kind} model '{record.Id}' ({record.Digest}) from {record.Path}").ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command List(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory.", DefaultValueFactory = _ => "./enclave-data" };
        var json = new Option<bool>("--json") { Description = "Print JSON for scripts." };
        var command = new Command("list", "List the models of a data directory: those the airlock activated and those registered with --dev, with their origin. Reads only: a running server may keep running.") { data, json };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var models = ListModels(result.GetValue(data)!, context.Clock);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject { ["models"] = new JsonArray([.. models.Select(m => (JsonNode)m.ToJson())]) }).ConfigureAwait(false);
            }
            else if (models.Count == 0)
            {
                await context.Out.WriteLineAsync("no models: import one through the airlock (enclave airlock import), or register a folder with enclave models add --dev").ConfigureAwait(false);
            }
            else
            {
                var rows = models.Select(m => new[] { m.Name, m.Version ?? "-", m.Task, m.Label ?? "(lowest level)", m.Origin, m.Digest }).ToList();
                await context.Out.WriteAsync(UsersCommands.Table(["NAME", "VERSION", "TASK", "LABEL", "ORIGIN", "DIGEST"], rows)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// The airlock's activated models (origin <c>airlock:IMPORT-ID</c>) and the dev-registered folders (origin
    /// <c>dev:FOLDER</c>), read from <c>enclave.db</c> without the data directory's writer lock (readers run beside a
    /// serving server under WAL).
    /// </summary>
    internal static IReadOnlyList<ListedModel> ListModels(string dataDirectory, TimeProvider clock)
    {
        // Listing creates nothing: a mistyped --data is named, not turned into a new, empty data directory.
        if (!new SqliteConnectionFactory(dataDirectory).Exists(StateDatabase.Enclave))
        {
            throw new DirectoryNotFoundException($"no enclave data directory at '{Path.GetFullPath(dataDirectory)}' (it holds no {StateDatabase.Enclave.FileName}); give --data");
        }

        var airlock = new SqliteAirlockStore(EnclaveState.Open(dataDirectory, clock))
            .Imports(state: "activated", kind: "model")
            .OrderBy(r => r.Name, StringComparer.Ordinal)
            .ThenBy(r => r.Decided)
            .Select(r => new ListedModel(
                r.Name,
                r.Version,
                r.Task ?? "-",
                r.Label,
                AirlockModels.SourcePrefix + r.Id,
                "sha256:" + r.ManifestSha256,
                r.Folder ?? "-",
                r.Decided));
        var dev = new LocalModelRegistry(dataDirectory, clock).List()
            .Select(r => new ListedModel(r.Id, null, r.Kind, r.Label, "dev:" + r.Path, r.Digest, r.Path, r.Added));
        return [.. airlock.Concat(dev.OrderBy(m => m.Name, StringComparer.Ordinal))];
    }

    /// <summary>A model as <c>models list</c> shows it.</summary>
    internal sealed record ListedModel(string Name, string? Version, string Task, string? Label, string Origin, string Digest, string Path, DateTimeOffset? Since)
    {
        public JsonObject ToJson() => new()
        {
            ["name"] = Name,
            ["version"] = Version,
            ["task"] = Task,
            ["label"] = Label,
            ["origin"] = Origin,
            ["digest"] = Digest,
            ["path"] = Path,
            ["since"] = Since?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static Command Tokenize(CliContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder with tokenizer.json (and tokenizer_config.json), or a GGUF model (a folder with model.gguf, or the .gguf file).", Required = true };
        var chat = new Option<string>("--chat") { Description = "A JSON file with an array of {role, content} messages: render the chat template first." };
        var text = new Argument<string>("TEXT") { Description = "Text to tokenize (ignored with --chat).", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "Print one JSON object." };
        var command = new Command("tokenize", "Print the token IDs of a text, or the rendered chat prompt and its IDs, for comparison with reference tokenizers.")
        {
            model, chat, text, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var loaded = LoadTokenizer(result.GetValue(model)!, context.Clock);
            string input;
            if (result.GetValue(chat) is { } chatFile)
            {
                var messages = JsonSerializer.Deserialize<List<ChatMessageJson>>(File.ReadAllText(chatFile), JsonOptions)
                    ?? throw new ArgumentException($"'{chatFile}' holds no messages");
                var template = loaded.ChatTemplate ?? throw new ArgumentException("the model has no chat template");
                input = template.Render([.. messages.Select(m => new ChatMessage(m.Role, m.Content))], addGenerationPrompt: true);
            }
            else
            {
                input = result.GetValue(text) ?? throw new ArgumentException("give TEXT or --chat FILE");
            }

            var ids = loaded.Tokenizer.Encode(input, addSpecialTokens: result.GetValue(chat) is null);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject { ["text"] = input, ["ids"] = new JsonArray([.. ids.Select(i => JsonValue.Create(i))]) }).ConfigureAwait(false);
            }
            else
            {
                if (result.GetValue(chat) is not null)
                {
                    await context.Out.WriteLineAsync(input).ConfigureAwait(false);
                }

                await context.Out.WriteLineAsync(string.Join(' ', ids)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// The tokenizer and chat template of a model: a Hugging Face folder's <c>tokenizer.json</c>, or a GGUF model's own
    /// (<c>tokenizer.ggml.*</c> read by llama.cpp, <c>tokenizer.chat_template</c> rendered by our Jinja), as the engine
    /// serves it. A GGUF file passes the airlock's GGUF scanner before llama.cpp reads a byte of it, as in the engine.
    /// </summary>
    private static ModelTokenizer LoadTokenizer(string path, TimeProvider clock)
    {
        var gguf = File.Exists(path) && Path.GetExtension(path).Equals(".gguf", StringComparison.OrdinalIgnoreCase)
            ? path
            : Directory.Exists(path) && !File.Exists(Path.Combine(path, "tokenizer.json")) && File.Exists(Path.Combine(path, "model.gguf"))
                ? Path.Combine(path, "model.gguf")
                : null;
        if (gguf is null)
        {
            var loaded = TokenizerLoader.Load(path, timeProvider: clock);
            return new ModelTokenizer(loaded.Tokenizer, loaded.ChatTemplate, null);
        }

        var scan = new GgufScanner().Scan(gguf);
        if (!scan.IsClean)
        {
            throw new InvalidModelException(gguf, [.. scan.Findings.Select(f => new ModelProblem(ModelRejectionReason.IncompatibleGraph, f))]);
        }

        // Tokenizing needs no decoding: the smallest context llama.cpp takes, so a long-context model reserves no cache.
        var decoder = GgufDecoderModel.Load(gguf, new GgufEngineOptions { ContextLength = 256 }, clock);
        return new ModelTokenizer(decoder.Tokenizer, decoder.ChatTemplate, decoder);
    }

    private sealed record ModelTokenizer(ITextTokenizer Tokenizer, IChatTemplate? ChatTemplate, IDisposable? Model) : IDisposable
    {
        public void Dispose() => Model?.Dispose();
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private sealed record ChatMessageJson(string Role, string Content);
}
