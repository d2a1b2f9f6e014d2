using System.Text.Json.Nodes;
using Enclave.Inference.Forge;
using Enclave.State;
using Enclave.State.Airlock;

namespace Enclave.Cli.Tests;

/// <summary><c>enclave models list</c>: airlock-activated and dev-registered models, with their origin.</summary>
public sealed class ModelsCliTests : IDisposable
{
    private static readonly DateTimeOffset Activated = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-models-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task An_airlock_activated_model_is_listed_with_its_import_as_origin_beside_a_dev_model()
    {
        var data = Path.Combine(_dir, "data");
        var tiny = Path.Combine(_dir, "tiny");
        ModelForge.ForgeDecoder(tiny, new ForgeOptions { Layers = 1, Hidden = 32, Heads = 2, Vocab = 300, Seed = 3 });
        Assert.Equal(0, (await CliRunner.RunAsync("models", "add", "--dev", "--data", data, "--name", "tiny-dev", tiny)).ExitCode);
        var manifest = new string('a', 64);
        ActivateAirlockModel(data, "imp_0123456789abcdef", "qwen-mini", "1.2.0", "SECRET//REL TO USA", manifest);
        // Not activated: an import still waiting for approval is not a model yet.
        InsertImport(data, "imp_fedcba9876543210", "pending-model", "1.0", "UNCLASSIFIED", new string('b', 64));

        var table = await CliRunner.RunAsync("models", "list", "--data", data);
        Assert.Equal(0, table.ExitCode);
        var lines = table.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("NAME", lines[0], StringComparison.Ordinal);
        Assert.Contains("ORIGIN", lines[0], StringComparison.Ordinal);
        var airlockLine = Assert.Single(lines, l => l.StartsWith("qwen-mini ", StringComparison.Ordinal));
        Assert.Contains("1.2.0", airlockLine, StringComparison.Ordinal);
        Assert.Contains("SECRET//REL TO USA", airlockLine, StringComparison.Ordinal);
        Assert.Contains("airlock:imp_0123456789abcdef", airlockLine, StringComparison.Ordinal);
        Assert.Contains("sha256:" + manifest, airlockLine, StringComparison.Ordinal);
        var devLine = Assert.Single(lines, l => l.StartsWith("tiny-dev ", StringComparison.Ordinal));
        Assert.Contains("dev:" + Path.GetFullPath(tiny), devLine, StringComparison.Ordinal);
        Assert.DoesNotContain("pending-model", table.Out, StringComparison.Ordinal);

        var json = await CliRunner.RunAsync("models", "list", "--data", data, "--json");
        Assert.Equal(0, json.ExitCode);
        var models = JsonNode.Parse(json.Out)!["models"]!.AsArray();
        Assert.Equal(2, models.Count);
        var airlock = models.Single(m => m!["name"]!.GetValue<string>() == "qwen-mini")!;
        Assert.Equal("airlock:imp_0123456789abcdef", airlock["origin"]!.GetValue<string>());
        Assert.Equal("1.2.0", airlock["version"]!.GetValue<string>());
        Assert.Equal("chat", airlock["task"]!.GetValue<string>());
        Assert.Equal("SECRET//REL TO USA", airlock["label"]!.GetValue<string>());
        var dev = models.Single(m => m!["name"]!.GetValue<string>() == "tiny-dev")!;
        Assert.Equal("dev:" + Path.GetFullPath(tiny), dev["origin"]!.GetValue<string>());
        Assert.Null(dev["version"]);
    }

    [Fact]
    public async Task An_empty_data_directory_says_how_models_arrive()
    {
        var data = Path.Combine(_dir, "empty");
        _ = EnclaveState.Open(data, TimeProvider.System);
        var result = await CliRunner.RunAsync("models", "list", "--data", data);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("no models", result.Out, StringComparison.Ordinal);
        Assert.Contains("airlock import", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_data_directory_is_named_and_not_created()
    {
        var data = Path.Combine(_dir, "typo");
        var result = await CliRunner.RunAsync("models", "list", "--data", data);
        Assert.Equal((int)ExitCode.NotFound, result.ExitCode);
        Assert.Contains(data, result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task Tokenize_a_GGUF_model_gives_llama_cpps_ids_which_equal_the_same_vocabularys_tokenizer_json()
    {
        // The forge trains one byte-level BPE vocabulary for both layouts: llama.cpp reading the GGUF's tokenizer.ggml.*
        // and our tokenizer.json pipeline must agree on every id, for plain text and for a rendered chat.
        var options = new ForgeOptions { Layers = 1, Hidden = 32, Heads = 2, Vocab = 400, Seed = 5 };
        var onnx = Path.Combine(_dir, "onnx");
        var gguf = Path.Combine(_dir, "gguf");
        ModelForge.ForgeDecoder(onnx, options);
        ModelForge.ForgeGguf(gguf, options);
        var chat = Path.Combine(_dir, "chat.json");
        await File.WriteAllTextAsync(chat, """[{"role":"system","content":"Be brief."},{"role":"user","content":"héllo wörld, 12 tokens?"}]""");

        const string Text = "The quick brown fox: naïve café 42!";
        var reference = await CliRunner.RunAsync("models", "tokenize", "--model", onnx, Text);
        var folder = await CliRunner.RunAsync("models", "tokenize", "--model", gguf, Text);
        var file = await CliRunner.RunAsync("models", "tokenize", "--model", Path.Combine(gguf, "model.gguf"), Text);
        Assert.Equal(0, reference.ExitCode);
        Assert.Equal(0, folder.ExitCode);
        Assert.Equal(0, file.ExitCode);
        Assert.True(reference.Out.Trim().Split(' ').Length > 5, reference.Out);
        Assert.Equal(reference.Out, folder.Out);
        Assert.Equal(reference.Out, file.Out);

        var referenceChat = JsonNode.Parse((await CliRunner.RunAsync("models", "tokenize", "--model", onnx, "--chat", chat, "--json")).Out)!;
        var ggufChat = JsonNode.Parse((await CliRunner.RunAsync("models", "tokenize", "--model", gguf, "--chat", chat, "--json")).Out)!;
        Assert.Contains("héllo wörld", ggufChat["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(referenceChat["text"]!.GetValue<string>(), ggufChat["text"]!.GetValue<string>());
        Assert.Equal(referenceChat["ids"]!.ToJsonString(), ggufChat["ids"]!.ToJsonString());
    }

    [Fact]
    public async Task Tokenize_refuses_a_truncated_GGUF_file_by_the_scanner_before_llama_cpp_reads_it()
    {
        var gguf = Path.Combine(_dir, "gguf");
        ModelForge.ForgeGguf(gguf, new ForgeOptions { Layers = 1, Hidden = 32, Heads = 2, Vocab = 300, Seed = 3 });
        var cut = Path.Combine(_dir, "cut.gguf");
        await File.WriteAllBytesAsync(cut, (await File.ReadAllBytesAsync(Path.Combine(gguf, "model.gguf")))[..100]);

        var result = await CliRunner.RunAsync("models", "tokenize", "--model", cut, "hello");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(string.Empty, result.Out);
        Assert.Contains(cut, result.Error, StringComparison.Ordinal);
        Assert.Contains("bad GGUF header", result.Error, StringComparison.Ordinal);
    }

    // The rows an approval writes (the import, then its artifact), through the state store into the real enclave.db.
    private static void ActivateAirlockModel(string data, string id, string name, string version, string label, string manifest)
    {
        InsertImport(data, id, name, version, label, manifest);
        var store = new SqliteAirlockStore(EnclaveState.Open(data, TimeProvider.System));
        using var transaction = store.Begin();
        transaction.Activate(new ArtifactRow("model", name, version, label, "chat", id, Path.Combine(data, "artifacts", "model", name, version), manifest, Activated), "alice");
        transaction.Commit();
    }

    private static void InsertImport(string data, string id, string name, string version, string label, string manifest)
    {
        var store = new SqliteAirlockStore(EnclaveState.Open(data, TimeProvider.System));
        using var transaction = store.Begin();
        transaction.InsertImport(
            new ImportRow
            {
                Id = id,
                Kind = "model",
                Name = name,
                Version = version,
                Label = label,
                Task = "chat",
                State = "verified",
                Importer = "importer",
                SignerKeyIdsJson = "[]",
                ManifestSha256 = manifest,
                ArchiveBytes = 1,
                TufVersionsJson = "{}",
                ReasonsJson = "[]",
                Received = Activated.AddHours(-1),
                Verified = Activated.AddHours(-1),
            },
            []);
        transaction.Commit();
    }
}
