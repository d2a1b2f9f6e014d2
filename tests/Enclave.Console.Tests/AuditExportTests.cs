using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Signing.Keys;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The audit log's export of a range with proofs: an auditor downloads it from the console, and it verifies offline with
/// the ledger's verifier key alone and our verifier (<see cref="LedgerAuditor"/>, <see cref="TlogProof"/>): every
/// entry is the ledger's exact bytes, included in the tree of the signed checkpoint. A changed entry, proof or checkpoint
/// fails. The download is a <c>ledger.exported</c> entry naming the auditor and the console; a bad range is a 400.
/// </summary>
public sealed class AuditExportTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task ExportedRange_VerifiesOfflineWithTheVerifierKey_AndAnyChangeFails_AndTheDownloadIsRecorded()
    {
        var auditor = await enclave.AddUserAsync("audrey", "auditor");
        _ = await enclave.AddUserAsync("extra-1", "user");
        _ = await enclave.AddUserAsync("extra-2", "user");
        var size = enclave.Entries().Count;
        using (var reader = LedgerReader.Open(enclave.DataDirectory))
        {
            for (var i = 0; i < 100 && (reader.LatestCheckpoint()?.Size ?? 0) < size; i++)
            {
                await Task.Delay(100);
            }
        }

        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, auditor.Key);
        await page.GotoAsync("/console/audit");
        await page.FillAsync("#export-from", "2");
        await page.FillAsync("#export-to", size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-submit"));
        Assert.Equal($"enclave-audit-2-{size - 1}.json", download.SuggestedFilename);
        var path = Path.Combine(enclave.DataDirectory, "..", Path.GetFileName(enclave.DataDirectory) + "-export.json");
        await download.SaveAsAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);

        // Offline: only the document and the verifier key the auditor trusts (read from the ledger's key files).
        var trusted = LedgerKeys.LoadVerifierKeys(enclave.DataDirectory);
        var document = StrictJson.Parse(bytes)!.AsObject();
        Assert.Equal("enclave-audit-export@v1", document["format"]!.GetValue<string>());
        Assert.Equal((2L, (long)size), (document["from"]!.GetValue<long>(), document["to"]!.GetValue<long>()));
        Assert.Equal(trusted, document["verifierKeys"]!.AsArray().Select(k => k!.GetValue<string>()));
        var entries = document["entries"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(size - 2, entries.Count);
        var origin = document["origin"]!.GetValue<string>();
        using (var reader = LedgerReader.Open(enclave.DataDirectory))
        {
            foreach (var e in entries)
            {
                var index = e["index"]!.GetValue<long>();
                var entry = Convert.FromBase64String(e["entry"]!.GetValue<string>());
                Assert.Equal(reader.ReadEntry(index), entry);
                Assert.Equal(MerkleHash.Leaf(entry).ToBase64(), e["leafHash"]!.GetValue<string>());
                var proof = TlogProof.Parse(e["tlogProof"]!.GetValue<string>());
                Assert.Equal(index, proof.Index);
                Assert.Equal(proof.Proof.Select(h => h.ToBase64()), e["inclusionProof"]!.AsArray().Select(h => h!.GetValue<string>()));
                Assert.Equal(document["checkpoint"]!.GetValue<string>(), proof.SignedCheckpoint);
                var checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(proof.SignedCheckpoint), trusted, origin);
                Assert.Equal(document["treeSize"]!.GetValue<long>(), checkpoint.Size);
                LedgerAuditor.VerifyInclusion(entry, index, checkpoint, proof.Proof);
            }
        }

        // Any change is caught: an entry's byte, a proof's hash, the entry's place, the checkpoint's text.
        var first = entries[0];
        var firstIndex = first["index"]!.GetValue<long>();
        var firstProof = TlogProof.Parse(first["tlogProof"]!.GetValue<string>());
        var signed = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(firstProof.SignedCheckpoint), trusted, origin);
        var changed = Convert.FromBase64String(first["entry"]!.GetValue<string>());
        changed[^2] ^= 1;
        Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyInclusion(changed, firstIndex, signed, firstProof.Proof));
        var original = Convert.FromBase64String(first["entry"]!.GetValue<string>());
        Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyInclusion(original, firstIndex + 1, signed, firstProof.Proof));
        var badProof = firstProof.Proof.ToList();
        badProof[0] = MerkleHash.Leaf(changed);
        Assert.Throws<LedgerVerificationException>(() => LedgerAuditor.VerifyInclusion(original, firstIndex, signed, badProof));
        var forgedNote = firstProof.SignedCheckpoint.Replace($"\n{signed.Size}\n", $"\n{signed.Size + 1}\n", StringComparison.Ordinal);
        Assert.NotEqual(firstProof.SignedCheckpoint, forgedNote);
        Assert.ThrowsAny<Exception>(() => LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(forgedNote), trusted, origin));

        // The download is in the record, naming the auditor and the console.
        var recorded = enclave.Entries().Last(e => e.Event.Type == "ledger.exported").Event;
        Assert.Equal("user:audrey", recorded.Actor);
        Assert.Equal($"ledger:2-{size - 1}", recorded.Subject);
        Assert.Equal("console", recorded.Details!.Value.GetProperty("via").GetString());
        Assert.Equal(size - 2, recorded.Details!.Value.GetProperty("entries").GetInt64());

        // A range the checkpoint does not cover, backwards, too large or not a number: 400, and nothing recorded.
        var exports = enclave.Entries().Count(e => e.Event.Type == "ledger.exported");
        foreach (var query in new[] { "from=5&to=3", "from=0&to=999999", "from=-1&to=2", "from=x&to=2", "from=1&to=1" })
        {
            var refused = await context.APIRequest.GetAsync("/console/audit/export?" + query);
            Assert.True(refused.Status == 400, $"{query}: {refused.Status}");
            Assert.StartsWith("400 bad request", await refused.TextAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(exports, enclave.Entries().Count(e => e.Event.Type == "ledger.exported"));
    }
}
