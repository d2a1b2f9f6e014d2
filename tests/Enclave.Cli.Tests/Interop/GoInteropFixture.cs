using System.Globalization;
using System.Text;

namespace Enclave.Cli.Tests.Interop;

/// <summary>
/// Once per test class: builds the Go checker, and makes a post-quantum ledger with the real CLI:
/// 100 entries and a checkpoint (kept as the "old" checkpoint), 200 more and a checkpoint, then an
/// export. 300 entries give one full 256-entry tile and partial tiles on levels 0 and 1.
/// </summary>
public sealed class GoInteropFixture : IAsyncLifetime
{
    public const string Origin = "test.example/log";
    public const long OldSize = 100;
    public const long Size = 300;

    private GoReferenceTool? go;

    public string Root { get; } = Directory.CreateTempSubdirectory("enclave-go-interop-").FullName;

    public string DataDirectory => Path.Combine(Root, "data");

    public string ExportDirectory => Path.Combine(Root, "export");

    /// <summary>The verifier keys exactly as <c>ledger init</c> printed them, one per line.</summary>
    public string KeysFile => Path.Combine(Root, "keys.txt");

    public string OldCheckpointFile => Path.Combine(Root, "checkpoint-100");

    public string CheckpointFile => Path.Combine(Root, "checkpoint-300");

    /// <summary>Ed25519 key first, then the ML-DSA-44 cosignature key.</summary>
    public IReadOnlyList<string> VerifierKeys { get; private set; } = [];

    /// <summary>"name+hexid" of the Ed25519 key, as Go prints it.</summary>
    public string Ed25519KeyId => KeyId(VerifierKeys[0]);

    /// <summary>"name+hexid" of the ML-DSA-44 cosignature key.</summary>
    public string MlDsaKeyId => KeyId(VerifierKeys[1]);

    internal GoReferenceTool Go => go ?? throw new InvalidOperationException("the fixture was not initialized");

    public async Task InitializeAsync()
    {
        go = await GoReferenceTool.BuildAsync(GoReferenceTool.FindRepositoryRoot(), Root);

        var init = await EnclaveProcess.RunCheckedAsync(["ledger", "init", "--data", DataDirectory, "--origin", Origin, "--post-quantum"]);
        VerifierKeys = init.StdoutLines;
        Assert.True(VerifierKeys.Count == 2, "ledger init --post-quantum should print two verifier keys:\n" + init.Describe());
        await File.WriteAllBytesAsync(KeysFile, init.Stdout);

        await AppendAsync(1, OldSize);
        await File.WriteAllBytesAsync(OldCheckpointFile, (await EnclaveProcess.RunCheckedAsync(["ledger", "checkpoint", "--data", DataDirectory])).Stdout);
        await AppendAsync(OldSize + 1, Size);
        await File.WriteAllBytesAsync(CheckpointFile, (await EnclaveProcess.RunCheckedAsync(["ledger", "checkpoint", "--data", DataDirectory])).Stdout);
        await EnclaveProcess.RunCheckedAsync(["ledger", "export", "--data", DataDirectory, "--out", ExportDirectory]);
    }

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the OS cleans temp eventually.
        }

        return Task.CompletedTask;
    }

    /// <summary>A scratch file path in this class's temporary directory.</summary>
    public string NewFile(string name) => Path.Combine(Root, $"{name}-{Guid.NewGuid():N}");

    /// <summary>"name+hexid" of a "name+hexid+base64" key; the base64 may hold '+' itself.</summary>
    private static string KeyId(string verifierKey)
    {
        var parts = verifierKey.Split('+', 3);
        return $"{parts[0]}+{parts[1]}";
    }

    private async Task AppendAsync(long first, long last)
    {
        var lines = new StringBuilder();
        for (var n = first; n <= last; n++)
        {
            lines.Append(CultureInfo.InvariantCulture, $$"""{"n":{{n}}}""").Append('\n');
        }

        var append = await EnclaveProcess.RunCheckedAsync(["ledger", "append", "--data", DataDirectory, "--type", "note.added", "--lines"], lines.ToString());
        Assert.True(append.StdoutLines.Count == last - first + 1, "append --lines should acknowledge every line:\n" + append.Describe());
    }
}
