using Enclave.Core.Storage;

namespace Enclave.Core.Tests;

public sealed class DataDirectoryLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-lock-").FullName;

    [Fact]
    public void Acquire_RefusesASecondWriter_NamingTheHolder()
    {
        using var first = DataDirectoryLock.Acquire(_dir, "enclave serve", TimeProvider.System);

        var ex = Assert.Throws<DataDirectoryLockedException>(() => DataDirectoryLock.Acquire(_dir, "enclave ledger append", TimeProvider.System));

        Assert.Equal("enclave serve", ex.Holder?.Purpose);
        Assert.Equal(Environment.ProcessId, ex.Holder?.ProcessId);
        Assert.Contains("enclave serve", ex.Message, StringComparison.Ordinal);
        Assert.Equal("enclave serve", DataDirectoryLock.CurrentHolder(_dir)?.Purpose);
    }

    [Fact]
    public void Acquire_SucceedsAgainAfterRelease()
    {
        DataDirectoryLock.Acquire(_dir, "first", TimeProvider.System).Dispose();

        using var second = DataDirectoryLock.Acquire(_dir, "second", TimeProvider.System);

        Assert.Equal("second", DataDirectoryLock.CurrentHolder(_dir)?.Purpose);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
