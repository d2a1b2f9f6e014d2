using System.Text;
using System.Text.Json;
using Enclave.Core.Audit;

namespace Enclave.Cli.Tests;

public sealed class LedgerCliTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-cli-").FullName;

    private string Data => Path.Combine(_root, "data");

    private async Task<string> InitAsync(params string[] extra)
    {
        var result = await CliRunner.RunAsync(["ledger", "init", "--data", Data, "--origin", "cli.example/log", .. extra]);
        Assert.Equal(0, result.ExitCode);
        return result.Out.Split('\n')[0].Trim();
    }

    [Fact]
    public async Task Workflow_InitAppendProveExportVerify()
    {
        var vkey = await InitAsync();
        Assert.StartsWith("cli.example/log+", vkey, StringComparison.Ordinal);

        var single = await CliRunner.RunWithInputAsync("""{"message":"hello"}""", "ledger", "append", "--data", Data, "--type", "note.added");
        Assert.Equal(0, single.ExitCode);
        Assert.Equal("0", single.Out.Trim());

        var lines = string.Join('\n', Enumerable.Range(1, 299).Select(n => $$"""{"n":{{n}}}"""));
        var many = await CliRunner.RunWithInputAsync(lines, "ledger", "append", "--data", Data, "--type", "note.added", "--lines");
        Assert.Equal(0, many.ExitCode);
        Assert.Equal(Enumerable.Range(1, 299).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), many.Out.Trim().Split('\n'));

        var get = await CliRunner.RunAsync("ledger", "get", "--data", Data, "--index", "0");
        var evt = AuditEvent.Parse(get.RawOut);
        Assert.Equal("note.added", evt.Type);
        Assert.Equal("hello", evt.Details!.Value.GetProperty("message").GetString());

        var proofFile = Path.Combine(_root, "entry0.tlog-proof");
        var prove = await CliRunner.RunAsync("ledger", "prove", "--data", Data, "--index", "0", "--json", "--tlog-proof", proofFile);
        Assert.Equal(0, prove.ExitCode);
        using (var doc = JsonDocument.Parse(prove.Out))
        {
            Assert.Equal(300, doc.RootElement.GetProperty("treeSize").GetInt64());
            Assert.Equal(9, doc.RootElement.GetProperty("proof").GetArrayLength());
        }

        var tlogProof = Ledger.Checkpoints.TlogProof.Parse(File.ReadAllText(proofFile));
        var checkpoint = Ledger.LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(tlogProof.SignedCheckpoint), [vkey]);
        Ledger.LedgerAuditor.VerifyInclusion(get.RawOut, tlogProof.Index, checkpoint, tlogProof.Proof);

        var old = await CliRunner.RunAsync("ledger", "checkpoint", "--data", Data);
        var oldFile = Path.Combine(_root, "old-checkpoint");
        File.WriteAllText(oldFile, old.Out);
        await CliRunner.RunWithInputAsync("""{"n":300}""", "ledger", "append", "--data", Data, "--type", "note.added");

        var consistency = await CliRunner.RunAsync("ledger", "consistency", "--data", Data, "--from", "300", "--to", "301");
        Assert.Equal(0, consistency.ExitCode);
        var proofPath = Path.Combine(_root, "consistency.txt");
        File.WriteAllText(proofPath, consistency.Out);

        var export = await CliRunner.RunAsync("ledger", "export", "--data", Data, "--out", Path.Combine(_root, "export"));
        Assert.Equal(0, export.ExitCode);

        var keyFile = Path.Combine(_root, "log.vkey");
        File.WriteAllText(keyFile, vkey + "\n");
        var verify = await CliRunner.RunAsync("ledger", "verify", "--key", keyFile, "--checkpoint", Path.Combine(_root, "export", "checkpoint"),
            "--from", oldFile, "--tiles", Path.Combine(_root, "export"), "--json");
        Assert.Equal(0, verify.ExitCode);
        using (var doc = JsonDocument.Parse(verify.Out))
        {
            Assert.Equal(301, doc.RootElement.GetProperty("treeSize").GetInt64());
            Assert.Equal(300, doc.RootElement.GetProperty("consistentWith").GetInt64());
            Assert.Equal(301, doc.RootElement.GetProperty("entriesChecked").GetInt64());
        }

        var withProof = await CliRunner.RunAsync("ledger", "verify", "--key", vkey, "--checkpoint", Path.Combine(_root, "export", "checkpoint"), "--from", oldFile, "--proof", proofPath);
        Assert.Equal(0, withProof.ExitCode);
        Assert.StartsWith("OK:", withProof.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_IsRecordedAsLedgerExported_NamingTheRangeAndWhoRanIt()
    {
        await InitAsync();
        await CliRunner.RunWithInputAsync(string.Join('\n', Enumerable.Range(0, 20).Select(n => $$"""{"n":{{n}}}""")), "ledger", "append", "--data", Data, "--type", "t.t", "--lines");

        var export = await CliRunner.RunAsync("ledger", "export", "--data", Data, "--out", Path.Combine(_root, "export"), "--json");

        Assert.Equal(0, export.ExitCode);
        using var doc = JsonDocument.Parse(export.Out);
        Assert.Equal(20, doc.RootElement.GetProperty("treeSize").GetInt64());
        Assert.Equal(20, doc.RootElement.GetProperty("recordedIndex").GetInt64());
        var entry = await CliRunner.RunAsync("ledger", "get", "--data", Data, "--index", "20");
        using var recorded = JsonDocument.Parse(entry.RawOut);
        Assert.Equal("ledger.exported", recorded.RootElement.GetProperty("type").GetString());
        Assert.Equal("ledger:0-19", recorded.RootElement.GetProperty("subject").GetString());
        Assert.StartsWith("local:", recorded.RootElement.GetProperty("actor").GetString(), StringComparison.Ordinal);
        var details = recorded.RootElement.GetProperty("details");
        Assert.Equal((0L, 19L, 20L), (details.GetProperty("from").GetInt64(), details.GetProperty("to").GetInt64(), details.GetProperty("entries").GetInt64()));
        Assert.Equal(Path.GetFullPath(Path.Combine(_root, "export")), details.GetProperty("output").GetString());
    }

    [Fact]
    public async Task Verify_TamperedExport_ExitsWithVerificationFailed()
    {
        var vkey = await InitAsync();
        await CliRunner.RunWithInputAsync(string.Join('\n', Enumerable.Range(0, 50).Select(n => $$"""{"n":{{n}}}""")), "ledger", "append", "--data", Data, "--type", "t.t", "--lines");
        var export = Path.Combine(_root, "export");
        await CliRunner.RunAsync("ledger", "export", "--data", Data, "--out", export);
        var bundle = Path.Combine(export, "tile", "entries", "000.p", "50");
        var bytes = File.ReadAllBytes(bundle);
        bytes[100] ^= 0x20;
        File.WriteAllBytes(bundle, bytes);

        var verify = await CliRunner.RunAsync("ledger", "verify", "--key", vkey, "--checkpoint", Path.Combine(export, "checkpoint"), "--tiles", export);

        Assert.Equal((int)ExitCode.VerificationFailed, verify.ExitCode);
        Assert.Contains("EntryMismatch", verify.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TamperedDatabase_ExitsWithVerificationFailed()
    {
        await InitAsync();
        await CliRunner.RunWithInputAsync(string.Join('\n', Enumerable.Range(0, 20).Select(n => $$"""{"n":{{n}}}""")), "ledger", "append", "--data", Data, "--type", "t.t", "--lines");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Data, "enclave.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE ledger_entries SET data = CAST(replace(CAST(data AS TEXT), '\"n\":7', '\"n\":8') AS BLOB) WHERE idx = 7";
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var verify = await CliRunner.RunAsync("ledger", "verify", "--data", Data, "--json");

        Assert.Equal((int)ExitCode.VerificationFailed, verify.ExitCode);
        using var doc = JsonDocument.Parse(verify.Out);
        Assert.Equal("VerificationFailed", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("entry 7", doc.RootElement.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DataDirectoryFromANewerRelease_IsRefusedWithStorageFailed_NamingBothSchemaVersions()
    {
        await InitAsync();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(Data, "enclave.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO state_migrations (version, description, from_version, applied, upgrade, recorded) VALUES (99, 'newer', 1, '2030-01-01T00:00:00Z', 1, 0)";
            command.ExecuteNonQuery();
        }

        var append = await CliRunner.RunWithInputAsync("""{"n":1}""", "ledger", "append", "--data", Data, "--type", "t.t");
        var get = await CliRunner.RunAsync("ledger", "get", "--data", Data, "--index", "0");

        foreach (var result in new[] { append, get })
        {
            Assert.Equal((int)ExitCode.StorageFailed, result.ExitCode);
            Assert.Contains("schema version 99", result.Error, StringComparison.Ordinal);
            Assert.Contains($"versions up to {Enclave.State.StateDatabase.Enclave.LatestVersion}", result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Append_WhileAnotherWriterHoldsTheDirectory_ExitsLockedNamingTheHolder()
    {
        await InitAsync();
        await using var server = Ledger.SqliteLedger.Open(new Ledger.LedgerOptions { DataDirectory = Data, Purpose = "enclave serve" }, TimeProvider.System);
        await server.AppendAsync(new AuditEvent { Type = "a.b", Time = DateTimeOffset.UtcNow, Actor = "x", Subject = "y" });

        var append = await CliRunner.RunWithInputAsync("""{"n":1}""", "ledger", "append", "--data", Data, "--type", "t.t");
        Assert.Equal((int)ExitCode.Locked, append.ExitCode);
        Assert.Contains("enclave serve", append.Error, StringComparison.Ordinal);

        // Read-only commands work alongside, and checkpoint falls back to the holder's latest.
        Assert.Equal(0, (await CliRunner.RunAsync("ledger", "get", "--data", Data, "--index", "0")).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("ledger", "prove", "--data", Data, "--index", "0")).ExitCode);
        var checkpoint = await CliRunner.RunAsync("ledger", "checkpoint", "--data", Data);
        Assert.Equal(0, checkpoint.ExitCode);
        Assert.StartsWith("cli.example/log\n1\n", checkpoint.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Append_InvalidEvent_ExitsInvalidInputAndAppendsNothing()
    {
        await InitAsync();
        var result = await CliRunner.RunWithInputAsync("""{"type":"Not Valid","actor":"a","subject":"s"}""", "ledger", "append", "--data", Data);

        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("type", result.Error, StringComparison.Ordinal);
        using var reader = Ledger.LedgerReader.Open(Data);
        Assert.Equal(0, reader.TreeSize());
    }

    [Fact]
    public async Task Verify_WithAKeyFileThatDoesNotExist_SaysItIsMissing_NotMalformed()
    {
        await InitAsync();
        var missing = Path.Combine(_root, "ledger.vkey");
        var result = await CliRunner.RunAsync("ledger", "verify", "--key", missing, "--data", Data);

        Assert.Equal((int)ExitCode.NotFound, result.ExitCode);
        Assert.Contains($"verifier key file '{missing}' does not exist", result.Error, StringComparison.Ordinal);
        Assert.Contains("keys/ledger-ed25519.vkey", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("malformed", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Append_NotJson_ExitsInvalidInput()
    {
        await InitAsync();
        var result = await CliRunner.RunWithInputAsync("this is not json", "ledger", "append", "--data", Data, "--type", "t.t");
        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
    }

    [Fact]
    public async Task Commands_OnAMissingLedger_ExitNotFoundWithAHint()
    {
        var result = await CliRunner.RunAsync("ledger", "get", "--data", Path.Combine(_root, "nowhere"), "--index", "0");
        Assert.Equal((int)ExitCode.NotFound, result.ExitCode);
        Assert.Contains("enclave ledger init", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OutOfRange_ExitsInvalidInput()
    {
        await InitAsync();
        var result = await CliRunner.RunAsync("ledger", "get", "--data", Data, "--index", "5");
        Assert.Equal((int)ExitCode.InvalidInput, result.ExitCode);
        Assert.Contains("outside the log", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownOption_ExitsUsage()
    {
        var result = await CliRunner.RunAsync("ledger", "get", "--bogus");
        Assert.Equal((int)ExitCode.Usage, result.ExitCode);
    }

    [Fact]
    public async Task Init_Twice_RefusesAndKeepsTheFirstKey()
    {
        var vkey = await InitAsync();
        var again = await CliRunner.RunAsync("ledger", "init", "--data", Data);
        Assert.Equal((int)ExitCode.InvalidInput, again.ExitCode);
        Assert.Equal(vkey, File.ReadAllText(Path.Combine(Data, "keys", "ledger-ed25519.vkey")).Trim());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Init_KeepsThePrivateKeyOwnerOnly()
    {
        await InitAsync("--post-quantum");
        foreach (var key in Directory.GetFiles(Path.Combine(Data, "keys"), "*.key"))
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
    }

    public void Dispose() => Directory.Delete(_root, true);
}
