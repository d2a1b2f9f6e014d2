using System.Text;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tests.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// Pulls from a real HTTP mirror (Kestrel on loopback) serving what the production writer published: the same
/// importer verifies it as a bundle from media, and a mirror under an attacker's control makes the pull fail with
/// the enclave unchanged.
/// </summary>
[Collection(RepositoryCollection.Name)]
public sealed class MirrorPullTests(TemplateRepositories templates) : RepositoryTestBase(templates), IAsyncLifetime
{
    private const string Csv = "id,name\n1,alpha\n2,beta\n";
    private readonly byte[] _notes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("field notes, ", 20_000)));
    private ImportTestContext _context = null!;
    private MirrorServer _mirror = null!;
    private string _repo = null!;

    public async Task InitializeAsync()
    {
        _context = await ImportTestContext.CreateAsync(pin: false);
        _repo = Copy(Templates.Basic);
        await _context.Importer.PinTrustAsync(Pinned(_repo), "user:admin");
        _mirror = await MirrorServer.StartAsync();
        _mirror.Publish(Publish("1.0.0"));
    }

    public async Task DisposeAsync()
    {
        await _mirror.DisposeAsync();
        await _context.DisposeAsync();
    }

    [Fact]
    public async Task Pull_IsVerifiedLikeABundle_ThenAnApprovalActivatesIt()
    {
        var record = await Pull("1.0.0");

        Assert.Equal(ImportState.Verified, record.State);
        Assert.Equal(("dataset", "field-data", "1.0.0", "UNCLASSIFIED"), (record.Kind, record.Name, record.Version, record.Label));
        Assert.Equal(["data.csv", "notes/notes.txt"], record.Targets.Select(t => t.RelativePath).Order(StringComparer.Ordinal));
        Assert.Equal(Sha256Digest.Compute(_notes), record.Targets.Single(t => t.RelativePath == "notes/notes.txt").Sha256);
        Assert.Equal(2, record.TufVersions["dataset"]);
        Assert.Contains("metadata/timestamp.json", _mirror.Requests);
        Assert.Contains("targets/dataset/field-data/1.0.0/notes/notes.txt", _mirror.Requests);

        var activated = await _context.Importer.ApproveAsync(record.Id, "user:bob");

        Assert.Equal(ImportState.Activated, activated.State);
        var folder = _context.Importer.ArtifactFolder("dataset", "field-data", "1.0.0");
        Assert.Equal(Csv, File.ReadAllText(Path.Combine(folder, "data.csv")));
        Assert.Equal(_notes, File.ReadAllBytes(Path.Combine(folder, "notes", "notes.txt")));
        Assert.Single(_context.Importer.ListActivated("dataset"));
    }

    [Fact]
    public async Task Pull_OfANewerVersion_AdvancesTheTrustedVersions()
    {
        await Pull("1.0.0");
        _mirror.Publish(Publish("1.1.0"));

        var record = await Pull("1.1.0");

        Assert.Equal(3, record.TufVersions["dataset"]);
        Assert.Equal(3, record.TufVersions["snapshot"]);
    }

    [Fact]
    public async Task TamperedTarget_IsRejected_AndChangesNothing()
    {
        var path = "targets/dataset/field-data/1.0.0/notes/notes.txt";
        var tampered = (byte[])_mirror.Files[path].Clone();
        tampered[1000] ^= 0x01;
        _mirror.Files[path] = tampered;

        var e = await AssertRejected(ImportRejection.Bundle);

        Assert.Equal("hash-mismatch", e.Code);
        Assert.Equal(BundleRejection.HashMismatch, e.BundleReason);
    }

    [Fact]
    public async Task TargetLongerThanItsMetadataSays_IsRejected_AndChangesNothing()
    {
        var path = "targets/dataset/field-data/1.0.0/data.csv";
        _mirror.Files[path] = [.. _mirror.Files[path], .. "3,gamma\n"u8];

        var e = await AssertRejected(ImportRejection.Bundle);

        Assert.Equal("length-mismatch", e.Code);
        Assert.Contains("more than", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TargetShorterThanItsMetadataSays_IsRejected_AndChangesNothing()
    {
        var path = "targets/dataset/field-data/1.0.0/notes/notes.txt";
        _mirror.Files[path] = _mirror.Files[path][..^10];

        var e = await AssertRejected(ImportRejection.Bundle);

        Assert.Equal("length-mismatch", e.Code);
    }

    [Fact]
    public async Task MissingTarget_IsRejected_AndChangesNothing()
    {
        Assert.True(_mirror.Files.TryRemove("targets/dataset/field-data/1.0.0/data.csv", out _));

        var e = await AssertRejected(ImportRejection.Bundle);

        Assert.Equal("missing-entry", e.Code);
        Assert.Contains("404", e.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollbackOfTheMirrorsMetadata_IsRejected_AndChangesNothing()
    {
        var old = new Dictionary<string, byte[]>(_mirror.Files, StringComparer.Ordinal);
        _mirror.Publish(Publish("1.1.0"));
        await Pull("1.1.0");

        // The mirror goes back to the older snapshot (and the timestamp and role that came with it).
        foreach (var (name, bytes) in old)
        {
            _mirror.Files[name] = bytes;
        }

        var e = await AssertRejected(ImportRejection.Tuf, "1.0.0");

        Assert.Equal("rollback", e.Code);
        Assert.Equal(AirlockRejection.Rollback, e.TufReason);
    }

    [Fact]
    public async Task MetadataOverItsSizeBound_IsRejected_AndChangesNothing()
    {
        var timestamp = _mirror.Files["metadata/timestamp.json"];
        var bound = TufUpdaterOptions.Default.MaxTimestampBytes;
        _mirror.Files["metadata/timestamp.json"] = [.. timestamp, .. Enumerable.Repeat((byte)' ', (int)bound)];

        var e = await AssertRejected(ImportRejection.Tuf);

        Assert.Equal(AirlockRejection.Oversized, e.TufReason);
        Assert.Contains(_mirror.Requests, r => r == "metadata/timestamp.json");
    }

    [Fact]
    public async Task FailingMirror_IsAMirrorError_AndChangesNothing()
    {
        await using var broken = await MirrorServer.StartAsync();
        var before = _context.Capture();
        var url = broken.BaseUrl;
        await broken.DisposeAsync();

        var e = await Assert.ThrowsAsync<MirrorPullException>(() => _context.Importer.PullAsync(url, "dataset", "field-data", "1.0.0", "user:alice"));

        Assert.Contains("nothing was imported", e.Message, StringComparison.Ordinal);
        _context.AssertUnchanged(before);
    }

    private async Task<ImportRejectedException> AssertRejected(ImportRejection reason, string version = "1.0.0")
    {
        var before = _context.Capture();
        var e = await Assert.ThrowsAsync<ImportRejectedException>(() => Pull(version));
        Assert.Equal(reason, e.Reason);
        _context.AssertUnchanged(before, "import.received", "import.rejected");
        return e;
    }

    private Task<ImportRecord> Pull(string version) =>
        _context.Importer.PullAsync(_mirror.BaseUrl, "dataset", "field-data", version, "user:alice");

    private string Publish(string version)
    {
        var source = Path.Combine(Root, "src-" + version);
        Directory.CreateDirectory(Path.Combine(source, "notes"));
        File.WriteAllText(Path.Combine(source, "data.csv"), Csv);
        File.WriteAllBytes(Path.Combine(source, "notes", "notes.txt"), _notes);
        using var passphrase = TemplateRepositories.Passphrase();
        var result = TrustRepository.Open(_repo).CreateBundle(
            new BundleCreateOptions
            {
                Kind = "dataset",
                Name = "field-data",
                Version = version,
                Label = "UNCLASSIFIED",
                Sources = [source],
                Output = Path.Combine(Root, $"field-data-{version}.tar"),
            },
            passphrase,
            _context.Repo.Clock);
        Assert.True(result.IsComplete);
        return result.Files.Single();
    }
}
