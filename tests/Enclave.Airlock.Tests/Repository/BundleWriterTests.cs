using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Repository;

[Collection(RepositoryCollection.Name)]
public sealed class BundleWriterTests(TemplateRepositories templates) : RepositoryTestBase(templates)
{
    private const string CycloneDx = """{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}""";
    private const string Spdx = """{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"demo"}""";
    private const string Provenance = """
        {"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"model.onnx","digest":{"sha256":"00"}}],
         "predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{},"runDetails":{}}}
        """;

    [Fact]
    public void CreateBundle_IsReadAndVerifiedByTheEnclavesReaderAndUpdater()
    {
        var repo = Copy(Templates.Basic);
        var model = RandomBytes(200_000);
        WriteFile("src/model/model.onnx", model);
        WriteFile("src/model/tokenizer/tokenizer.json", "{\"version\":\"1.0\"}");
        var genai = WriteFile("genai_config.json", "{}");
        var sbom = WriteFile("sbom.json", Spdx);
        var provenance = WriteFile("provenance.json", Provenance);

        var result = Create(repo, Model("demo.tar", Path.Combine(Root, "src/model"), genai) with { Sbom = sbom, Provenance = provenance });

        Assert.True(result.IsComplete);
        Assert.Equal(2, result.RoleVersion);
        var imported = Import(result.Files.Single(), Pinned(repo));
        Assert.Equal("model", imported.Selector.GetProperty("kind").GetString());
        Assert.Equal("demo-chat", imported.Selector.GetProperty("name").GetString());
        Assert.Equal("1.0.0", imported.Selector.GetProperty("version").GetString());
        Assert.Equal(
            ["model/demo-chat/1.0.0/.attestations/provenance.intoto.json", "model/demo-chat/1.0.0/.attestations/sbom.spdx.json",
             "model/demo-chat/1.0.0/genai_config.json", "model/demo-chat/1.0.0/model.onnx", "model/demo-chat/1.0.0/tokenizer/tokenizer.json"],
            imported.Targets.Select(t => t.Path).Order(StringComparer.Ordinal));
        Assert.Equal(model, imported.Content("model/demo-chat/1.0.0/model.onnx"));
        Assert.Equal(File.ReadAllBytes(sbom), imported.Content("model/demo-chat/1.0.0/.attestations/sbom.spdx.json"));
        Assert.All(imported.Targets, t => Assert.Equal("model", t.Role));

        var custom = imported.Custom("model/demo-chat/1.0.0/model.onnx");
        Assert.Equal("model", custom.GetProperty("kind").GetString());
        Assert.Equal("demo-chat", custom.GetProperty("name").GetString());
        Assert.Equal("1.0.0", custom.GetProperty("version").GetString());
        Assert.Equal("UNCLASSIFIED", custom.GetProperty("label").GetString());
        Assert.Equal("content", custom.GetProperty("type").GetString());
        Assert.Equal("chat", custom.GetProperty("task").GetString());
        Assert.Equal("sbom", imported.Custom("model/demo-chat/1.0.0/.attestations/sbom.spdx.json").GetProperty("type").GetString());
        Assert.Equal("provenance", imported.Custom("model/demo-chat/1.0.0/.attestations/provenance.intoto.json").GetProperty("type").GetString());
    }

    [Fact]
    public void Bundle_HasMetadataFirst_TheWholeRootChain_AndRegularFilesOnly()
    {
        var repo = Copy(Templates.Basic);
        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", RandomBytes(1000))));

        var names = new List<string>();
        using (var reader = new TarReader(File.OpenRead(result.Files.Single())))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                Assert.Equal(TarEntryType.RegularFile, entry.EntryType);
                names.Add(entry.Name);
            }
        }

        Assert.Equal(
            ["metadata/1.root.json", "metadata/root.json", "metadata/timestamp.json", "metadata/snapshot.json", "metadata/targets.json",
             "metadata/model.json", "metadata/bundle.json", "targets/model/demo-chat/1.0.0/model.onnx"],
            names);
    }

    [Fact]
    public void CreateBundle_StreamsAMultiMegabyteFile_IntoSplitParts_ThatTheReaderJoins()
    {
        var repo = Copy(Templates.Basic);
        var weights = RandomBytes(6 * 1024 * 1024 + 123);
        var source = WriteFile("weights.safetensors", weights);
        var progress = new List<long>();

        using var passphrase = TemplateRepositories.Passphrase();
        var result = TrustRepository.Open(repo).CreateBundle(
            Model("big.tar", source) with { Kind = "dataset", Task = null, SplitSize = 1024 * 1024 },
            passphrase,
            TimeProvider.System,
            new SyncProgress(progress.Add));

        Assert.Equal(7, result.Files.Count);
        Assert.Equal(Enumerable.Range(0, 7).Select(i => Path.Combine(Root, $"big.tar.{i:000}")), result.Files);
        Assert.All(result.Files.SkipLast(1), f => Assert.Equal(1024 * 1024, new FileInfo(f).Length));
        Assert.Equal(result.Bytes, result.Files.Sum(f => new FileInfo(f).Length));
        Assert.Equal(2L * weights.Length, progress[^1]);

        var imported = Import(Path.Combine(Root, "big.tar"), Pinned(repo));
        Assert.Equal(weights, imported.Content("dataset/demo-chat/1.0.0/weights.safetensors"));
        Assert.Equal(SHA256.HashData(weights), imported.Targets.Single().Sha256!.Value.ToArray());
    }

    [Fact]
    public void SecondArtifact_BumpsVersions_AndAnEnclaveThatImportedTheFirstAcceptsIt()
    {
        var repo = Copy(Templates.Basic);
        var first = Create(repo, Model("v1.tar", WriteFile("a/model.onnx", RandomBytes(100))));
        var second = Create(repo, Model("v2.tar", WriteFile("b/model.onnx", RandomBytes(100))) with { Version = "1.1.0" });
        Assert.Equal(first.RoleVersion + 1, second.RoleVersion);

        var afterFirst = Import(first.Files.Single(), Pinned(repo));
        var trusted = afterFirst.Trusted;
        var files = BundleMetadata(second.Files.Single());
        var updater = new Updater(trusted, new InMemoryMetadataSource(files), TimeProvider.System);
        updater.Refresh();
        Assert.NotNull(updater.FindTarget("model/demo-chat/1.1.0/model.onnx"));
        Assert.Equal(trusted.Timestamp!.Version + 1, updater.Trusted.Timestamp!.Version);

        // And the old bundle is a rollback for that enclave now.
        var rollback = new Updater(updater.Trusted, new InMemoryMetadataSource(BundleMetadata(first.Files.Single())), TimeProvider.System);
        Assert.Equal(AirlockRejection.Rollback, Assert.Throws<AirlockRejectedException>(() => rollback.Refresh()).Reason);
    }

    [Theory]
    [InlineData("{\"bomFormat\":\"CycloneDX\"}", "--sbom")]
    [InlineData("{\"spdxVersion\":\"2.3\"}", "--sbom")]
    [InlineData("{\"hello\":\"world\"}", "--sbom")]
    [InlineData("not json", "--sbom")]
    [InlineData("[]", "--sbom")]
    [InlineData("{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":\"https://slsa.dev/provenance/v1\",\"subject\":[{\"digest\":{}}],\"predicate\":{}}", "--provenance")]
    [InlineData("{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v0.2\",\"subject\":[{\"digest\":{}}],\"predicate\":{}}", "--provenance")]
    [InlineData("{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/provenance/v1\",\"predicate\":{}}", "--provenance")]
    [InlineData("{\"payloadType\":\"application/vnd.in-toto+json\",\"payload\":\"e30=\",\"signatures\":[]}", "--provenance")]
    [InlineData(CycloneDx, "--provenance")]
    public void CreateBundle_RejectsAttestationsOfTheWrongShape_AndChangesNothing(string json, string option)
    {
        var repo = Copy(Templates.Basic);
        var before = Snapshot(repo);
        var file = WriteFile("attestation.json", json);
        var options = Model("demo.tar", WriteFile("model.onnx", RandomBytes(10)));
        options = option == "--sbom" ? options with { Sbom = file } : options with { Provenance = file };

        var e = Assert.Throws<TrustRepositoryException>(() => Create(repo, options));
        Assert.Equal(TrustRepositoryError.InvalidAttestation, e.Error);
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot(repo));
        Assert.False(File.Exists(Path.Combine(Root, "demo.tar")));
    }

    [Fact]
    public void CreateBundle_AcceptsCycloneDx()
    {
        var repo = Copy(Templates.Basic);
        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", RandomBytes(10))) with { Sbom = WriteFile("bom.json", CycloneDx) });
        Assert.Contains(result.Targets, t => t.Path == "model/demo-chat/1.0.0/.attestations/sbom.cdx.json" && t.Type == "sbom");
        Import(result.Files.Single(), Pinned(repo));
    }

    [Fact]
    public void SameVersionWithOtherContent_IsRefused_AndChangesNothing()
    {
        var repo = Copy(Templates.Basic);
        Create(repo, Model("a.tar", WriteFile("a/model.onnx", RandomBytes(10))));
        var before = Snapshot(repo);
        var e = Assert.Throws<TrustRepositoryException>(() => Create(repo, Model("b.tar", WriteFile("b/model.onnx", RandomBytes(10)))));
        Assert.Equal(TrustRepositoryError.AlreadyPublished, e.Error);
        Assert.Equal(before, Snapshot(repo));
        Assert.False(File.Exists(Path.Combine(Root, "b.tar")));
    }

    [Fact]
    public void WrongPassphrase_IsRefused_AndChangesNothing()
    {
        var repo = Copy(Templates.Basic);
        var before = Snapshot(repo);
        using var wrong = Passphrase.FromString("a different passphrase");
        var e = Assert.Throws<SigningException>(() => TrustRepository.Open(repo).CreateBundle(Model("demo.tar", WriteFile("model.onnx", RandomBytes(10))), wrong, TimeProvider.System));
        Assert.Equal(SigningFailure.KeyDecryptionFailed, e.Reason);
        Assert.Equal(before, Snapshot(repo));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Root, "*demo.tar*"));
    }

    [Theory]
    [InlineData("name", "../evil")]
    [InlineData("name", "a/b")]
    [InlineData("version", "..")]
    [InlineData("version", "1.0\n")]
    [InlineData("label", "secret")]
    [InlineData("label", "")]
    [InlineData("kind", "policy")]
    [InlineData("task", "vision")]
    public void InvalidNames_AreRefused(string field, string value)
    {
        var repo = Copy(Templates.Basic);
        var options = Model("demo.tar", WriteFile("model.onnx", RandomBytes(10)));
        options = field switch
        {
            "name" => options with { Name = value },
            "version" => options with { Version = value },
            "label" => options with { Label = value },
            "kind" => options with { Kind = value },
            _ => options with { Task = value },
        };
        Assert.Equal(TrustRepositoryError.InvalidArgument, Assert.Throws<TrustRepositoryException>(() => Create(repo, options)).Error);
    }

    [Fact]
    public void SourcesNestedTooDeep_SymbolicLinks_AndExistingOutput_AreRefused()
    {
        var repo = Copy(Templates.Basic);
        WriteFile("deep/a/b/c.bin", "x");
        Assert.Equal(TrustRepositoryError.InvalidArgument, Assert.Throws<TrustRepositoryException>(() => Create(repo, Model("d.tar", Path.Combine(Root, "deep")))).Error);

        var target = WriteFile("real.bin", "x");
        Directory.CreateDirectory(Path.Combine(Root, "linked"));
        File.CreateSymbolicLink(Path.Combine(Root, "linked", "link.bin"), target);
        var link = Assert.Throws<TrustRepositoryException>(() => Create(repo, Model("l.tar", Path.Combine(Root, "linked"))));
        Assert.Contains("symbolic link", link.Message, StringComparison.Ordinal);

        var existing = WriteFile("exists.tar", "keep me");
        Assert.Equal(TrustRepositoryError.OutputExists, Assert.Throws<TrustRepositoryException>(() => Create(repo, Model("exists.tar", target))).Error);
        Assert.Equal("keep me", File.ReadAllText(existing));
    }

    [Fact]
    public void TamperedTargetInAWrittenBundle_IsRejectedByTheReader()
    {
        var repo = Copy(Templates.Basic);
        var content = RandomBytes(5000);
        var result = Create(repo, Model("demo.tar", WriteFile("model.onnx", content)));
        var bytes = File.ReadAllBytes(result.Files.Single());
        var at = bytes.AsSpan().IndexOf(content.AsSpan(0, 64));
        bytes[at + 100] ^= 1;
        File.WriteAllBytes(result.Files.Single(), bytes);

        var e = Assert.Throws<BundleRejectedException>(() => Import(result.Files.Single(), Pinned(repo)));
        Assert.Equal(BundleRejection.HashMismatch, e.Reason);
    }

    [Fact]
    public void ExplicitKeyNotAuthorisedForTheRolesSigned_IsRefused()
    {
        var repo = Copy(Templates.Basic);
        var e = Assert.Throws<SigningException>(() => Create(repo, Model("demo.tar", WriteFile("model.onnx", RandomBytes(10))) with { KeyFiles = [Key(repo, "intel")] }));
        Assert.Equal(SigningFailure.KeyNotAuthorised, e.Reason);
    }

    internal static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    internal static Dictionary<string, byte[]> BundleMetadata(string bundle)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var reader = new TarReader(File.OpenRead(bundle));
        while (reader.GetNextEntry() is { } entry && entry.Name.StartsWith("metadata/", StringComparison.Ordinal))
        {
            using var memory = new MemoryStream();
            entry.DataStream!.CopyTo(memory);
            files[entry.Name["metadata/".Length..]] = memory.ToArray();
        }

        return files;
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
