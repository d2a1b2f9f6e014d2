using Enclave.Core.Storage;

namespace Enclave.Core.Tests;

public sealed class ReplicaIdTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("enclave-replica-id-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public void Of_MakesAnIdOnce_AndReturnsTheSameOneAfterwards()
    {
        var first = ReplicaId.Of(_data);

        Assert.Matches("^[0-9a-f]{16}$", first);
        Assert.Equal(first, ReplicaId.Of(_data));
        Assert.Single(Directory.GetFiles(_data));
    }

    [Fact]
    public void Of_TwoDataDirectories_GetDifferentIds()
    {
        var other = Path.Combine(_data, "other");
        Assert.NotEqual(ReplicaId.Of(_data), ReplicaId.Of(other));
    }

    [Theory]
    [InlineData("../../etc\n")]
    [InlineData("0123456789ABCDEF")]
    [InlineData("0123456789abcde")]
    [InlineData("")]
    public void Of_RefusesAFileThatDoesNotHoldAnId(string content)
    {
        File.WriteAllText(Path.Combine(_data, ReplicaId.FileName), content);

        var error = Assert.Throws<InvalidDataException>(() => ReplicaId.Of(_data));
        Assert.Contains("remove it", error.Message, StringComparison.Ordinal);
    }
}
