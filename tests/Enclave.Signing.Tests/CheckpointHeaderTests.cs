using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;

namespace Enclave.Signing.Tests;

public sealed class CheckpointHeaderTests
{
    private const string Root = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    [Fact]
    public void TryParse_ReadsOriginSizeAndRoot_AndAllowsExtensionLines()
    {
        Assert.True(CheckpointHeader.TryParse(Utf8($"example.com/log\n18446744073709551615\n{Root}\nextension\n"), out var header, out _));

        Assert.Equal("example.com/log"u8.ToArray(), header.Origin);
        Assert.Equal(ulong.MaxValue, header.Size);
        Assert.Equal(new Sha256Digest(new byte[32]), header.RootHash);
    }

    [Theory]
    [InlineData("example.com/log\n7\n" + Root, "three")] // root line not terminated
    [InlineData("\n7\n" + Root + "\n", "line 1")] // empty origin
    [InlineData("example.com/log\n07\n" + Root + "\n", "line 2")] // leading zero
    [InlineData("example.com/log\n18446744073709551616\n" + Root + "\n", "line 2")] // 2^64
    [InlineData("example.com/log\n-1\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n\n" + Root + "\n", "line 2")]
    [InlineData("example.com/log\n7\nAAAA\n", "line 3")] // not 32 bytes
    [InlineData("example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "line 3")] // non-canonical
    public void TryParse_RejectsTextsThatAreNotCheckpoints_NamingTheLine(string text, string expected)
    {
        Assert.False(CheckpointHeader.TryParse(Utf8(text), out _, out var problem));

        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsAnOriginLongerThan255Bytes()
    {
        Assert.True(CheckpointHeader.TryParse(Utf8($"{new string('o', 255)}\n1\n{Root}\n"), out _, out _));
        Assert.False(CheckpointHeader.TryParse(Utf8($"{new string('o', 256)}\n1\n{Root}\n"), out _, out _));
    }
}
