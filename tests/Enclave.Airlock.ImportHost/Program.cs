using System.Globalization;
using Enclave.Airlock.Import;
using Enclave.Ledger;

// Usage:
//   import  DATA BUNDLE ACTOR PAUSE_AT_BYTES   imports BUNDLE; once PAUSE_AT_BYTES of the archive are read, stops mid-copy
//   approve DATA IMPORT_ID ACTOR PAUSE_AT_STEP  approves; stops at the named promotion step (e.g. promote.folder)
// On reaching the pause point it prints "paused ..." and blocks until killed. Exit 0 if it finishes, 2 on error.
if (args.Length != 5)
{
    Console.Error.WriteLine("usage: import|approve DATA BUNDLE|IMPORT_ID ACTOR PAUSE");
    return 64;
}

var (mode, data, target, actor, pause) = (args[0], args[1], args[2], args[3], args[4]);
var clock = new FixedClock(DateTimeOffset.Parse(Environment.GetEnvironmentVariable("ENCLAVE_TEST_NOW") ?? throw new InvalidOperationException("ENCLAVE_TEST_NOW is required"), CultureInfo.InvariantCulture));

void Pause(string what)
{
    Console.Out.WriteLine("paused " + what);
    Console.Out.Flush();
    Thread.Sleep(Timeout.Infinite);
}

await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = data, Purpose = "airlock crash test host" }, clock);
var options = new AirlockImportOptions
{
    DataDirectory = data,
    FaultPoint = step =>
    {
        if (mode == "approve" && step == pause)
        {
            Pause(step);
        }
    },
};
var importer = new AirlockImporter(options, ledger, clock);
try
{
    if (mode == "import")
    {
        var pauseAt = long.Parse(pause, CultureInfo.InvariantCulture);
        var progress = new PauseAt(pauseAt, bytes => Pause(bytes.ToString(CultureInfo.InvariantCulture)));
        // Forward-only, as the server reads an upload: the reader copies on its own thread chunk by chunk, so the pause
        // lands mid-copy. (From a seekable file, parallel workers with O_DIRECT finish 64 MiB before a report is due.)
        await using var bundle = new ForwardOnly(File.OpenRead(target));
        var record = await importer.ImportAsync(bundle, actor, progress);
        Console.Out.WriteLine("done " + record.Id);
    }
    else
    {
        var record = await importer.ApproveAsync(target, actor);
        Console.Out.WriteLine("done " + record.State);
    }

    return 0;
}
catch (Exception e) when (e is ImportRejectedException or ImportWorkflowException or IOException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

// Synchronous, on the reader's own thread: blocking here stops the copy between two chunks of one file.
internal sealed class PauseAt(long threshold, Action<long> pause) : IProgress<long>
{
    public void Report(long value)
    {
        if (value >= threshold)
        {
            pause(value);
        }
    }
}

internal sealed class ForwardOnly(Stream inner) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
