using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Enclave.Cli.Tests.Interop;

/// <summary>
/// What the enclave CLI publishes verifies with Go's reference implementation,
/// golang.org/x/mod/sumdb/note and sumdb/tlog (tests/interop/go/enclave-interop), and what is
/// tampered with does not. Real processes on both sides.
/// </summary>
public sealed class GoReferenceInteropTests(GoInteropFixture fixture) : IClassFixture<GoInteropFixture>
{
    [Theory]
    [InlineData(GoInteropFixture.OldSize)]
    [InlineData(GoInteropFixture.Size)]
    public async Task Checkpoint_OpensWithGoNote_ThroughEd25519Key_WithMlDsaCosignatureListedUnverified(long size)
    {
        var checkpoint = size == GoInteropFixture.Size ? fixture.CheckpointFile : fixture.OldCheckpointFile;

        var go = await fixture.Go.RunAsync("checkpoint", "-keys", fixture.KeysFile, "-note", checkpoint);

        AssertSucceeded(go);
        var lines = go.StdoutLines;
        Assert.Contains($"key: {fixture.Ed25519KeyId}", lines);
        Assert.Contains($"unsupported key: {fixture.MlDsaKeyId} (unknown verifier algorithm 0x06)", lines);
        Assert.Contains($"verified signature: {fixture.Ed25519KeyId}", lines);
        Assert.Contains($"unverified signature: {fixture.MlDsaKeyId}", lines);
        Assert.Single(lines, l => l.StartsWith("verified signature: ", StringComparison.Ordinal));
        Assert.Contains($"origin: {GoInteropFixture.Origin}", lines);
        Assert.Contains($"size: {size}", lines);
        Assert.Contains($"root: {await RootHashAsync(size)}", lines);
    }

    [Theory]
    [InlineData(0, GoInteropFixture.Size)]
    [InlineData(5, GoInteropFixture.Size)]
    [InlineData(255, GoInteropFixture.Size)]
    [InlineData(256, GoInteropFixture.Size)]
    [InlineData(299, GoInteropFixture.Size)]
    [InlineData(0, GoInteropFixture.OldSize)]
    [InlineData(42, GoInteropFixture.OldSize)]
    [InlineData(99, GoInteropFixture.OldSize)]
    public async Task InclusionProof_IsAcceptedByGoTlogCheckRecord(long index, long size)
    {
        var (proof, entry) = await ProveAsync(index, size);
        var checkpoint = size == GoInteropFixture.Size ? fixture.CheckpointFile : fixture.OldCheckpointFile;

        var go = await fixture.Go.RunAsync("inclusion", "-keys", fixture.KeysFile, "-note", checkpoint, "-proof", proof, "-entry", entry);

        AssertSucceeded(go);
        Assert.Contains(go.StdoutLines, l => l.StartsWith($"inclusion ok: entry {index} ", StringComparison.Ordinal) && l.Contains($" is in the tree of size {size} ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConsistencyProof_FromOlderCheckpoint_IsAcceptedByGoTlogCheckTree()
    {
        var proof = await ConsistencyAsync();

        var go = await fixture.Go.RunAsync("consistency", "-keys", fixture.KeysFile, "-old", fixture.OldCheckpointFile, "-note", fixture.CheckpointFile, "-proof", proof);

        AssertSucceeded(go);
        Assert.Contains(go.StdoutLines, l => l.StartsWith($"consistency ok: the tree of size {GoInteropFixture.Size} extends the tree of size {GoInteropFixture.OldSize} ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ExportedTiles_ReproduceTheSignedRoot_InGoTlog()
    {
        var exportedCheckpoint = Path.Combine(fixture.ExportDirectory, "checkpoint");

        var go = await fixture.Go.RunAsync("tiles", "-keys", fixture.KeysFile, "-note", exportedCheckpoint, "-dir", fixture.ExportDirectory);

        AssertSucceeded(go);
        var lines = go.StdoutLines;
        Assert.Contains($"verified signature: {fixture.Ed25519KeyId}", lines);
        Assert.Contains($"root: {await RootHashAsync(GoInteropFixture.Size)}", lines);
        Assert.Contains("level-0 tiles ok: 2 tiles, 300 leaf hashes fold to the checkpoint root", lines);
        Assert.Contains("entry bundles ok: 2 bundles, 300 entries hash to the leaf hashes", lines);
        Assert.Contains("tile hash reader ok: 3 authenticated hash tiles (tile/0/000 tile/0/001.p/44 tile/1/000.p/1) give the checkpoint root", lines);
    }

    [Fact]
    public async Task Checkpoint_WithOneByteOfRootLineChanged_IsRejectedByGoNote()
    {
        var note = await File.ReadAllTextAsync(fixture.CheckpointFile);
        var lines = note.Split('\n');
        var root = lines[2];
        lines[2] = (root[0] == 'A' ? 'B' : 'A') + root[1..]; // still 32 bytes of base64: only the signature can catch it
        var tampered = fixture.NewFile("checkpoint-root-changed");
        await File.WriteAllTextAsync(tampered, string.Join('\n', lines));

        var go = await fixture.Go.RunAsync("checkpoint", "-keys", fixture.KeysFile, "-note", tampered);

        AssertRejected(go, $"note.Open rejected the checkpoint: invalid signature for key {fixture.Ed25519KeyId}");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task InclusionProof_WithOneBitFlipped_IsRejectedByGoTlogCheckRecord(int hashPosition)
    {
        var (proof, entry) = await ProveAsync(77, GoInteropFixture.Size);
        var tampered = await FlipBitInProofAsync(proof, hashPosition);

        var go = await fixture.Go.RunAsync("inclusion", "-keys", fixture.KeysFile, "-note", fixture.CheckpointFile, "-proof", tampered, "-entry", entry);

        AssertRejected(go, "tlog.CheckRecord rejected the inclusion proof of entry 77 in tree 300: invalid transparency proof");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public async Task ConsistencyProof_WithOneBitFlipped_IsRejectedByGoTlogCheckTree(int hashPosition)
    {
        var tampered = await FlipBitInProofAsync(await ConsistencyAsync(), hashPosition);

        var go = await fixture.Go.RunAsync("consistency", "-keys", fixture.KeysFile, "-old", fixture.OldCheckpointFile, "-note", fixture.CheckpointFile, "-proof", tampered);

        AssertRejected(go, "tlog.CheckTree rejected the consistency proof from 100 to 300: invalid transparency proof");
    }

    [Fact]
    public async Task ExportedTiles_WithOneLeafHashBitFlipped_AreRejectedByGoTlog()
    {
        var copy = fixture.NewFile("export-copy");
        CopyDirectory(fixture.ExportDirectory, copy);
        var partialTile = Path.Combine(copy, "tile", "0", "001.p", "44");
        var bytes = await File.ReadAllBytesAsync(partialTile);
        bytes[10 * 32] ^= 0x01; // leaf 266
        await File.WriteAllBytesAsync(partialTile, bytes);

        var go = await fixture.Go.RunAsync("tiles", "-keys", fixture.KeysFile, "-note", Path.Combine(copy, "checkpoint"), "-dir", copy);

        AssertRejected(go, $"the 2 level-0 tiles in {copy} give root ");
    }

    /// <summary>
    /// A Go client decoding our --json proofs with x/mod's own types (tlog.Hash implements
    /// json.Unmarshaler) fails on about half of all hashes: System.Text.Json's default encoder writes
    /// '+' as \u002B, and tlog.Hash.UnmarshalJSON takes the raw JSON bytes, accepting only a plain
    /// 44-character base64 string. The interop checker above decodes JSON strings first, so it is
    /// unaffected; this test is for the output itself.
    /// </summary>
    [Fact]
    public async Task ProofJson_DecodesIntoGoTlogHashes()
    {
        // 9 + 8 proof hashes and 4 stated hashes: the chance that none holds a '+' is about 0.51^21, so the defect shows.
        var (proof, _) = await ProveAsync(0, GoInteropFixture.Size);
        var consistency = await ConsistencyAsync();

        AssertSucceeded(await fixture.Go.RunAsync("tlogjson", "-proof", proof));
        AssertSucceeded(await fixture.Go.RunAsync("tlogjson", "-proof", consistency));
    }

    private static void AssertSucceeded(ProcessResult go) =>
        Assert.True(go.ExitCode == 0, "Go's reference implementation rejected enclave's output:\n" + go.Describe());

    private static void AssertRejected(ProcessResult go, string expectedMessage)
    {
        Assert.True(go.ExitCode == 1, "Go's reference implementation should have rejected the tampered input (exit 1):\n" + go.Describe());
        Assert.True(go.Stderr.Contains(expectedMessage, StringComparison.Ordinal), $"expected Go to say \"{expectedMessage}\":\n" + go.Describe());
    }

    /// <summary>Writes <c>ledger prove --json</c> and the entry's bytes from <c>ledger get</c> to files.</summary>
    private async Task<(string ProofFile, string EntryFile)> ProveAsync(long index, long size)
    {
        var i = index.ToString(CultureInfo.InvariantCulture);
        var prove = await EnclaveProcess.RunCheckedAsync(["ledger", "prove", "--data", fixture.DataDirectory, "--index", i, "--size", size.ToString(CultureInfo.InvariantCulture), "--json"]);
        var get = await EnclaveProcess.RunCheckedAsync(["ledger", "get", "--data", fixture.DataDirectory, "--index", i]);
        var proofFile = fixture.NewFile($"inclusion-{index}-{size}.json");
        var entryFile = fixture.NewFile($"entry-{index}");
        await File.WriteAllBytesAsync(proofFile, prove.Stdout);
        await File.WriteAllBytesAsync(entryFile, get.Stdout);
        return (proofFile, entryFile);
    }

    private async Task<string> ConsistencyAsync()
    {
        var consistency = await EnclaveProcess.RunCheckedAsync(
        [
            "ledger", "consistency", "--data", fixture.DataDirectory,
            "--from", GoInteropFixture.OldSize.ToString(CultureInfo.InvariantCulture),
            "--to", GoInteropFixture.Size.ToString(CultureInfo.InvariantCulture), "--json",
        ]);
        var file = fixture.NewFile("consistency.json");
        await File.WriteAllBytesAsync(file, consistency.Stdout);
        return file;
    }

    /// <summary>The root hash enclave states for a tree size (from a proof's JSON), to compare with what Go read from the note.</summary>
    private async Task<string> RootHashAsync(long size)
    {
        var prove = await EnclaveProcess.RunCheckedAsync(["ledger", "prove", "--data", fixture.DataDirectory, "--index", "0", "--size", size.ToString(CultureInfo.InvariantCulture), "--json"]);
        return JsonNode.Parse(prove.StdoutText)!["rootHash"]!.GetValue<string>();
    }

    /// <summary>Copies a proof JSON file with bit 0 of one proof hash flipped (position -1: the last hash).</summary>
    private async Task<string> FlipBitInProofAsync(string proofFile, int hashPosition)
    {
        var json = JsonNode.Parse(await File.ReadAllTextAsync(proofFile))!;
        var hashes = json["proof"]!.AsArray();
        var position = hashPosition < 0 ? hashes.Count + hashPosition : hashPosition;
        var hash = Convert.FromBase64String(hashes[position]!.GetValue<string>());
        hash[0] ^= 0x01;
        hashes[position] = Convert.ToBase64String(hash);
        var tampered = fixture.NewFile("proof-bit-flipped.json");
        await File.WriteAllTextAsync(tampered, json.ToJsonString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return tampered;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
