using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;
using Enclave.Cli.Tests.Interop;

namespace Enclave.Cli.Tests;

/// <summary>
/// The connected side of the airlock through the real <c>enclave</c> executable (child processes with the passphrase
/// in their environment), and every bundle it writes read and verified by the enclave's own reader and TUF client.
/// </summary>
public sealed class TrustBundleCommandTests : IDisposable
{
    private const string Secret = "cli test passphrase 42";
    private static readonly string EnclaveDll = typeof(EnclaveCli).Assembly.Location;
    private static readonly string DotnetHost = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private readonly string _root = Directory.CreateTempSubdirectory("enclave-trust-cli-").FullName;

    private string Repo => Path.Combine(_root, "repo");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task InitCreateSignRotate_BundlesVerifyInAnEnclavePinnedToRoot1()
    {
        var init = await Ok("trust", "init", "--out", Repo, "--root-keys", "2", "--threshold", "2", "--kind-keys", "3", "--kind-threshold", "2", "--json");
        using (var doc = JsonDocument.Parse(init.StdoutText))
        {
            Assert.Equal(Path.Combine(Repo, "metadata", "1.root.json"), doc.RootElement.GetProperty("root").GetString());
            Assert.Equal(2 + 3 + (4 * 3), doc.RootElement.GetProperty("keys").GetArrayLength());
        }

        var pinned = File.ReadAllBytes(Path.Combine(Repo, "metadata", "1.root.json"));
        Directory.CreateDirectory(Path.Combine(_root, "model"));
        var weights = new byte[2 * 1024 * 1024 + 17];
        Random.Shared.NextBytes(weights);
        File.WriteAllBytes(Path.Combine(_root, "model", "model.onnx"), weights);
        File.WriteAllText(Path.Combine(_root, "sbom.json"), """{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT"}""");
        var bundle = Path.Combine(_root, "demo.tar");

        var created = await Ok("bundle", "create", "--repo", Repo, "--kind", "model", "--name", "demo-chat", "--version", "1.0.0",
            "--label", "UNCLASSIFIED", "--task", "chat", "--sbom", Path.Combine(_root, "sbom.json"), "--out", bundle,
            "--keys", Key("snapshot"), "--keys", $"{Key("timestamp")},{Key("model-1")}", "--json", Path.Combine(_root, "model"));
        using (var doc = JsonDocument.Parse(created.StdoutText))
        {
            Assert.False(doc.RootElement.GetProperty("complete").GetBoolean());
            Assert.Equal(2, doc.RootElement.GetProperty("targets").GetArrayLength());
        }

        Assert.Equal(AirlockRejection.BelowThreshold, Assert.Throws<AirlockRejectedException>(() => Import(bundle, pinned)).Reason);

        var signed = await Ok("bundle", "sign", "--key", Key("model-3"), bundle);
        Assert.Contains("complete", signed.StdoutText, StringComparison.Ordinal);
        var imported = Import(bundle, pinned);
        Assert.Equal(weights, File.ReadAllBytes(imported.Targets.Single(t => t.Name.EndsWith("model.onnx", StringComparison.Ordinal)).Path));

        var again = await Ok("bundle", "sign", "--key", Key("model-3"), bundle, "--json");
        Assert.True(JsonDocument.Parse(again.StdoutText).RootElement.GetProperty("unchanged").GetBoolean());

        var rotated = await Ok("trust", "rotate", "--repo", Repo, "--root-keys", "3", "--threshold", "2", "--json");
        Assert.Equal(2, JsonDocument.Parse(rotated.StdoutText).RootElement.GetProperty("version").GetInt32());

        var split = Path.Combine(_root, "demo-1.1.tar");
        var second = await Ok("bundle", "create", "--repo", Repo, "--kind", "model", "--name", "demo-chat", "--version", "1.1.0",
            "--label", "UNCLASSIFIED", "--split-size", "1MiB", "--expires", "30d", "--out", split, Path.Combine(_root, "model", "model.onnx"));
        Assert.Contains("complete: every role reaches its threshold", second.StdoutText, StringComparison.Ordinal);
        Assert.True(File.Exists(split + ".002"));
        var afterRotation = Import(split, pinned);
        Assert.Single(afterRotation.Targets);
    }

    [Fact]
    public async Task PostQuantum_InitAddsMlDsaKeys_AndBundleSignWithTheMlDsaKeySatisfiesAnEnclaveThatRequiresIt()
    {
        var init = await Ok("trust", "init", "--out", Repo, "--root-keys", "1", "--threshold", "1", "--post-quantum", "--json");
        using (var doc = JsonDocument.Parse(init.StdoutText))
        {
            var types = doc.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("type").GetString()).ToList();
            Assert.Equal(8, types.Count(t => t == "ed25519"));
            Assert.Equal(8, types.Count(t => t == "ml-dsa-65"));
        }

        var pinned = File.ReadAllBytes(Path.Combine(Repo, "metadata", "1.root.json"));
        File.WriteAllBytes(Path.Combine(_root, "model.onnx"), [1, 2, 3, 4]);
        var bundle = Path.Combine(_root, "pq.tar");
        await Ok("bundle", "create", "--repo", Repo, "--kind", "model", "--name", "demo", "--version", "1.0.0", "--label", "UNCLASSIFIED",
            "--out", bundle, "--keys", $"{Key("snapshot")},{Key("timestamp")},{Key("snapshot-ml-dsa-65")},{Key("timestamp-ml-dsa-65")},{Key("model")}",
            Path.Combine(_root, "model.onnx"));
        var requirePq = TufUpdaterOptions.Default with { RequirePostQuantumSignature = true };
        Assert.Equal(AirlockRejection.MissingPostQuantumSignature, Assert.Throws<AirlockRejectedException>(() => Import(bundle, pinned, requirePq)).Reason);

        await Ok("bundle", "sign", "--key", Key("model-ml-dsa-65"), bundle);
        Assert.Single(Import(bundle, pinned, requirePq).Targets);

        var rotated = await Ok("trust", "rotate", "--repo", Repo, "--post-quantum", "--json");
        Assert.Contains("ml-dsa-65", rotated.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Errors_AreClear_AndUseNamedExitCodes()
    {
        var noPassphrase = await Run(["trust", "init", "--out", Repo, "--root-keys", "1", "--threshold", "1"], passphrase: null);
        Assert.Equal((int)ExitCode.InvalidInput, noPassphrase.ExitCode);
        Assert.Contains("ENCLAVE_PASSPHRASE", noPassphrase.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Repo));

        var badThreshold = await Run(["trust", "init", "--out", Repo, "--root-keys", "1", "--threshold", "2"]);
        Assert.Equal((int)ExitCode.InvalidInput, badThreshold.ExitCode);
        Assert.Contains("threshold", badThreshold.Stderr, StringComparison.Ordinal);

        await Ok("trust", "init", "--out", Repo, "--root-keys", "1", "--threshold", "1");
        var source = Path.Combine(_root, "data.bin");
        File.WriteAllBytes(source, [1, 2, 3]);
        var bundle = Path.Combine(_root, "b.tar");

        var wrong = await Run(["bundle", "create", "--repo", Repo, "--kind", "dataset", "--name", "d", "--version", "1", "--label", "UNCLASSIFIED", "--out", bundle, source], passphrase: "not the right passphrase");
        Assert.Equal((int)ExitCode.Denied, wrong.ExitCode);
        Assert.Contains("passphrase is wrong", wrong.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(bundle));

        var sbom = Path.Combine(_root, "notes.json");
        File.WriteAllText(sbom, """{"hello":"world"}""");
        var badSbom = await Run(["bundle", "create", "--repo", Repo, "--kind", "dataset", "--name", "d", "--version", "1", "--label", "UNCLASSIFIED", "--sbom", sbom, "--out", bundle, source, "--json"]);
        Assert.Equal((int)ExitCode.InvalidInput, badSbom.ExitCode);
        Assert.Equal("InvalidAttestation", JsonDocument.Parse(badSbom.StdoutText).RootElement.GetProperty("error").GetProperty("reason").GetString());

        var badSize = await Run(["bundle", "create", "--repo", Repo, "--kind", "dataset", "--name", "d", "--version", "1", "--label", "UNCLASSIFIED", "--split-size", "lots", "--out", bundle, source]);
        Assert.Equal((int)ExitCode.InvalidInput, badSize.ExitCode);
        Assert.Contains("--split-size", badSize.Stderr, StringComparison.Ordinal);

        var badKind = await Run(["bundle", "create", "--repo", Repo, "--kind", "policy", "--name", "d", "--version", "1", "--label", "UNCLASSIFIED", "--out", bundle, source]);
        Assert.Equal((int)ExitCode.Usage, badKind.ExitCode);

        await Ok("bundle", "create", "--repo", Repo, "--kind", "dataset", "--name", "d", "--version", "1", "--label", "UNCLASSIFIED", "--out", bundle, source);
        var keyFile = Path.Combine(Repo, "keys", "dataset.pem");
        var text = File.ReadAllText(keyFile);
        File.WriteAllText(keyFile, text[..60] + (text[60] == 'A' ? 'B' : 'A') + text[61..]);
        var tampered = await Run(["bundle", "sign", "--key", keyFile, bundle]);
        Assert.True(tampered.ExitCode is (int)ExitCode.Denied or (int)ExitCode.VerificationFailed, tampered.Describe());
        Assert.Contains(keyFile, tampered.Stderr, StringComparison.Ordinal);

        var notAuthorised = await Run(["bundle", "sign", "--key", Path.Combine(Repo, "keys", "intel.pem"), bundle]);
        Assert.Equal((int)ExitCode.Denied, notAuthorised.ExitCode);
        Assert.Contains("not authorised", notAuthorised.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_TellsWhereTheRootToPinIs()
    {
        var init = await Ok("trust", "init", "--out", Repo, "--root-keys", "1", "--threshold", "1", "--key-type", "ecdsa-p256");
        Assert.Contains($"root to pin in the enclave: {Path.Combine(Repo, "metadata", "1.root.json")}", init.StdoutText, StringComparison.Ordinal);
        Assert.Contains("\"keytype\": \"ecdsa\"", File.ReadAllText(Path.Combine(Repo, "keys", "targets.pub.json")), StringComparison.Ordinal);
    }

    private string Key(string name) => Path.Combine(Repo, "keys", name + ".pem");

    private BundleContents Import(string bundle, byte[] pinnedRoot, TufUpdaterOptions? options = null) => new BundleReader().Read(
        bundle,
        metadata =>
        {
            var files = metadata.ToDictionary(m => m.Key["metadata/".Length..], m => m.Value.ToArray(), StringComparer.Ordinal);
            var updater = new Updater(TrustedState.FromRoot(pinnedRoot), new InMemoryMetadataSource(files), TimeProvider.System, options);
            updater.Refresh();
            using var selector = JsonDocument.Parse(files["bundle.json"]);
            var kind = selector.RootElement.GetProperty("kind").GetString()!;
            var prefix = $"{kind}/{selector.RootElement.GetProperty("name").GetString()}/{selector.RootElement.GetProperty("version").GetString()}/";
            using var role = JsonDocument.Parse(files[kind + ".json"]);
            var paths = role.RootElement.GetProperty("signed").GetProperty("targets").EnumerateObject().Select(p => p.Name).Where(p => p.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            return paths.Select(updater.RequireTarget).ToDictionary(
                t => "targets/" + t.Path,
                t => new ExpectedEntry { Length = t.Length, Sha256 = t.Sha256!.Value },
                StringComparer.Ordinal);
        },
        Path.Combine(_root, "enclave-data"));

    private async Task<ProcessResult> Ok(params string[] arguments)
    {
        var result = await Run(arguments);
        Assert.True(result.ExitCode == 0, result.Describe());
        return result;
    }

    private static Task<ProcessResult> Run(string[] arguments, string? passphrase = Secret) =>
        ChildProcess.RunAsync(DotnetHost, [EnclaveDll, .. arguments], environment: new Dictionary<string, string?> { ["ENCLAVE_PASSPHRASE"] = passphrase });
}
