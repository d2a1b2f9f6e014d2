using System.Text.Json;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;

namespace Enclave.Cli.Tests;

public sealed class CrashTests : IDisposable
{
    private readonly string _data = Path.Combine(Directory.CreateTempSubdirectory("enclave-crash-").FullName, "data");

    [Fact]
    public async Task SigkillDuringAppends_KeepsEveryAcknowledgedEntry_AndTheLogContinues()
    {
        var init = await CliRunner.RunAsync("ledger", "init", "--data", _data, "--origin", "crash.example/log");
        Assert.Equal(0, init.ExitCode);
        var vkey = init.Out.Split('\n')[0].Trim();

        using var child = CliRunner.Start("ledger", "append", "--data", _data, "--type", "load.test", "--lines", "--json");
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var feeder = Task.Run(async () =>
        {
            try
            {
                for (var n = 1; n <= 2_000_000 && !deadline.IsCancellationRequested; n++)
                {
                    await child.StandardInput.WriteLineAsync($$"""{"n":{{n}}}""");
                }
            }
            catch (IOException)
            {
                // The child was killed: the pipe is gone.
            }
        });

        var acknowledged = new List<(long Line, long Index)>();
        while (acknowledged.Count < 5000 && await child.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            using var ack = JsonDocument.Parse(line);
            acknowledged.Add((ack.RootElement.GetProperty("line").GetInt64(), ack.RootElement.GetProperty("index").GetInt64()));
        }

        child.Kill(); // SIGKILL on Unix: no flush, no dispose, no final checkpoint
        await child.WaitForExitAsync(deadline.Token);
        await feeder;
        Assert.True(acknowledged.Count >= 5000, $"the child acknowledged only {acknowledged.Count} appends: {await child.StandardError.ReadToEndAsync()}");

        using (var reader = LedgerReader.Open(_data))
        {
            Assert.True(reader.TreeSize() >= acknowledged.Count);
            foreach (var (lineNumber, index) in acknowledged)
            {
                var evt = AuditEvent.Parse(reader.ReadEntry(index));
                Assert.Equal(lineNumber, evt.Details!.Value.GetProperty("n").GetInt64());
            }

            var checkpoint = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(reader.LatestCheckpoint()!.Note), [vkey]);
            Assert.Equal(reader.TreeSize(), checkpoint.Size);
            LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint);
        }

        // The lock died with the child; a new writer continues the same tree.
        var more = await CliRunner.RunWithInputAsync("""{"n":"after"}""", "ledger", "append", "--data", _data, "--type", "load.test");
        Assert.Equal(0, more.ExitCode);
        using var after = LedgerReader.Open(_data);
        var final = LedgerAuditor.VerifyCheckpoint(System.Text.Encoding.UTF8.GetBytes(after.LatestCheckpoint()!.Note), [vkey]);
        Assert.Equal(long.Parse(more.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture) + 1, final.Size);
        LedgerAuditor.VerifyTiles(after.OpenTileReader(), final);
    }

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_data)!, true);
}
