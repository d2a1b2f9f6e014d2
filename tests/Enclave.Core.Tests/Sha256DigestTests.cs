using Enclave.Core;

namespace Enclave.Core.Tests;

public sealed class Sha256DigestTests
{
    [Fact]
    public void Compute_MatchesFips180KnownAnswer()
    {
        var digest = Sha256Digest.Compute("abc"u8);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.ToHex());
    }

    [Fact]
    public void Base64AndHex_RoundTrip()
    {
        var digest = Sha256Digest.Compute("enclave"u8);
        Assert.True(Sha256Digest.TryParseBase64(digest.ToBase64(), out var fromBase64));
        Assert.True(Sha256Digest.TryParseHex(digest.ToHex(), out var fromHex));
        Assert.Equal(digest, fromBase64);
        Assert.Equal(digest, fromHex);
    }

    [Theory]
    [InlineData("")]
    [InlineData("AAAA")]
    [InlineData("ungültig")]
    [InlineData("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=")] // non-canonical: padding bits set
    [InlineData("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU")]  // missing padding
    public void TryParseBase64_RejectsAnythingButCanonical32Bytes(string text)
    {
        Assert.False(Sha256Digest.TryParseBase64(text, out _));
    }

    [Fact]
    public void Constructor_RejectsWrongLength()
    {
        Assert.Throws<ArgumentException>(() => new Sha256Digest(new byte[31]));
    }
}
