using System.Security.Cryptography;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// <see cref="TufSignatureVerifier.CheckMetaFile"/>: a metadata file's bytes against the length and hashes its parent
/// lists, each refusal with its reason and message.
/// </summary>
public sealed class MetaFileCheckTests
{
    private static readonly byte[] Bytes = "{\"signed\":{}}"u8.ToArray();

    private static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static string Sha512Hex(byte[] bytes) => Convert.ToHexStringLower(SHA512.HashData(bytes));

    private static MetaFile Meta(long? length, params (string Algorithm, string Hex)[] hashes) => new()
    {
        Version = 1,
        Length = length,
        Hashes = hashes.Length == 0 ? null : hashes.ToDictionary(h => h.Algorithm, h => h.Hex),
    };

    private static AirlockRejectedException Refused(MetaFile meta, AirlockRejection reason)
    {
        var e = Assert.Throws<AirlockRejectedException>(() => TufSignatureVerifier.CheckMetaFile(Bytes, meta, "snapshot.json"));
        Assert.Equal(reason, e.Reason);
        return e;
    }

    [Fact]
    public void AcceptsTheListedLength_WithoutHashes_AndNothingListed()
    {
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(Bytes.Length), "snapshot.json");
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(null), "snapshot.json");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    public void RefusesAnotherLength_SayingBoth(int delta)
    {
        var e = Refused(Meta(Bytes.Length + delta), AirlockRejection.LengthMismatch);

        Assert.Equal($"length mismatch: snapshot.json is {Bytes.Length} bytes but its parent lists {Bytes.Length + delta}", e.Detail);
    }

    [Fact]
    public void RefusesAnotherLength_BeforeLookingAtTheHashes()
    {
        Refused(Meta(Bytes.Length + 1, ("sha256", Sha256Hex(Bytes))), AirlockRejection.LengthMismatch);
    }

    [Fact]
    public void AcceptsMatchingSha256AndSha512_AloneOrTogether()
    {
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(null, ("sha256", Sha256Hex(Bytes))), "snapshot.json");
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(null, ("sha512", Sha512Hex(Bytes))), "snapshot.json");
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(Bytes.Length, ("sha512", Sha512Hex(Bytes)), ("sha256", Sha256Hex(Bytes))), "snapshot.json");
    }

    [Fact]
    public void AcceptsAnUnsupportedAlgorithm_BesideASupportedOneThatMatches()
    {
        TufSignatureVerifier.CheckMetaFile(Bytes, Meta(null, ("blake2b", "00"), ("sha256", Sha256Hex(Bytes))), "snapshot.json");
    }

    [Fact]
    public void RefusesAMismatchingSha256_ShowingTheStartOfBothDigests()
    {
        var other = Sha256Hex("other"u8.ToArray());

        var e = Refused(Meta(null, ("sha256", other)), AirlockRejection.HashMismatch);

        Assert.Equal($"hash mismatch: snapshot.json has sha256 {Sha256Hex(Bytes)[..16]}… but its parent lists {other[..16]}…", e.Detail);
    }

    [Fact]
    public void RefusesAMismatchingSha512_EvenWhenTheSha256Matches()
    {
        var other = Sha512Hex("other"u8.ToArray());

        var e = Refused(Meta(null, ("sha256", Sha256Hex(Bytes)), ("sha512", other)), AirlockRejection.HashMismatch);

        Assert.Equal($"hash mismatch: snapshot.json has sha512 {Sha512Hex(Bytes)[..16]}… but its parent lists {other[..16]}…", e.Detail);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("")]
    public void RefusesADigestShorterThanItsAlgorithms_ShowingWhatWasListed(string listed)
    {
        var e = Refused(Meta(null, ("sha256", listed)), AirlockRejection.HashMismatch);

        Assert.Equal($"hash mismatch: snapshot.json has sha256 {Sha256Hex(Bytes)[..16]}… but its parent lists {listed}…", e.Detail);
    }

    [Fact]
    public void RefusesADigestThatIsNotHex_AsMalformed()
    {
        var e = Refused(Meta(null, ("sha256", "zz")), AirlockRejection.Malformed);

        Assert.Equal("malformed metadata: the sha256 hash listed for snapshot.json is not hex", e.Detail);
        Assert.IsType<FormatException>(e.InnerException);
    }

    [Fact]
    public void RefusesHashesOfOnlyUnsupportedAlgorithms_NamingThem()
    {
        var e = Refused(Meta(null, ("md5", "00"), ("blake2b", "00")), AirlockRejection.HashMismatch);

        Assert.Equal("hash mismatch: none of the hash algorithms listed for snapshot.json (md5, blake2b) is supported (sha256, sha512)", e.Detail);
    }
}
