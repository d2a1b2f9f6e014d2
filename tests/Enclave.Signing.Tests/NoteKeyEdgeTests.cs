using System.Buffers.Binary;
using System.Text;
using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;
using static Enclave.Signing.Tests.TestVectors;

namespace Enclave.Signing.Tests;

/// <summary>
/// The Ed25519 and ML-DSA-44 keys' and verifiers' edges that mutation testing (issue #18) checks: each private-key
/// refusal by its exact message, the name and clock bounds, the cosigned message byte by byte, the timestamp bound a
/// verifier enforces, and signature lengths one short and one long.
/// </summary>
public sealed class NoteKeyEdgeTests
{
    private const string Checkpoint = "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    private static readonly ManualClock Clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private static string PrivateKey(string name, string keyId, byte type, int length) =>
        $"PRIVATE+KEY+{name}+{keyId}+{Convert.ToBase64String([type, .. new byte[length]])}";

    [Theory]
    [InlineData(0x06, 32, "type 0x06 is not Ed25519 (0x01) (it is an ML-DSA-44 cosigner key; load it with MlDsa44CosignerKey)")]
    [InlineData(0x02, 32, "type 0x02 is not Ed25519 (0x01)")]
    [InlineData(0x01, 31, "an Ed25519 seed is 32 bytes, got 31")]
    [InlineData(0x01, 33, "an Ed25519 seed is 32 bytes, got 33")]
    public void Ed25519PrivateKey_Refusals_SayExactlyWhy(int type, int length, string why)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(PrivateKey("PeterNeumann", "c74f20a3", (byte)type, length)));
        Assert.Equal($"private key 'PeterNeumann' rejected: {why}", ex.Message);
    }

    [Fact]
    public void Ed25519PrivateKey_WithAnotherKeyId_SaysBoth()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(PeterPrivateKey.Replace("c74f20a3", "c74f20a4", StringComparison.Ordinal)));
        Assert.Equal("private key 'PeterNeumann' rejected: its key ID c74f20a4 does not match the key (c74f20a3); the file is corrupt or was edited", ex.Message);
    }

    [Theory]
    [InlineData(0x01, 32, "type 0x01 is not an ML-DSA-44 cosigner key (0x06) (it is an Ed25519 note key; load it with Ed25519NoteKey)")]
    [InlineData(0x02, 32, "type 0x02 is not an ML-DSA-44 cosigner key (0x06)")]
    [InlineData(0x06, 31, "an ML-DSA-44 seed is 32 bytes, got 31")]
    [InlineData(0x06, 33, "an ML-DSA-44 seed is 32 bytes, got 33")]
    public void MlDsa44PrivateKey_Refusals_SayExactlyWhy(int type, int length, string why)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(PrivateKey("PeterNeumann", "c74f20a3", (byte)type, length), Clock));
        Assert.Equal($"private key 'PeterNeumann' rejected: {why}", ex.Message);
    }

    [Fact]
    public void MlDsa44PrivateKey_WithAnotherKeyId_SaysBoth()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        var wrongId = key.FormatPrivateKey().Replace($"+{key.KeyId:x8}+", $"+{key.KeyId ^ 1:x8}+", StringComparison.Ordinal);

        var ex = Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(wrongId, Clock));
        Assert.Equal($"private key 'example.com/log' rejected: its key ID {key.KeyId ^ 1:x8} does not match the key ({key.KeyId:x8}); the file is corrupt or was edited", ex.Message);
    }

    [Fact]
    public void MlDsa44Names_Of255Bytes_AreKeys_AndOf256AreRefused()
    {
        string longest = new('n', 255);
        using var key = MlDsa44CosignerKey.Generate(longest, Clock);
        using var parsed = MlDsa44CosignerKey.ParsePrivateKey(key.FormatPrivateKey(), Clock);
        Assert.Equal(longest, parsed.Name);

        string tooLong = new('n', 256);
        Assert.Equal(
            "a cosigner name is at most 255 UTF-8 bytes (Parameter 'name')",
            Assert.Throws<ArgumentException>(() => MlDsa44CosignerKey.Generate(tooLong, Clock)).Message);
        Assert.Equal(
            $"private key '{tooLong}' rejected: a cosigner name is at most 255 UTF-8 bytes",
            Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(PrivateKey(tooLong, "00000000", 0x06, 32), Clock)).Message);
    }

    [Fact]
    public void MlDsa44Key_NamesTheNullClock()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        Assert.Equal("clock", Assert.Throws<ArgumentNullException>(() => MlDsa44CosignerKey.Generate("example.com/log", null!)).ParamName);
        Assert.Equal("clock", Assert.Throws<ArgumentNullException>(() => MlDsa44CosignerKey.ParsePrivateKey(key.FormatPrivateKey(), null!)).ParamName);
    }

    [Fact]
    public void MlDsa44Sign_OfANoteThatIsNotACheckpoint_SaysWhy()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        var ex = Assert.Throws<EnclaveFormatException>(() => key.Sign(Utf8("hello\n")));
        Assert.Equal("ML-DSA-44 cosigner 'example.com/log' signs checkpoints only, and this note text is not one: a checkpoint has at least three newline-terminated lines (origin, tree size, root hash)", ex.Message);
    }

    [Fact]
    public void MlDsa44Sign_WritesTheClockSecondsFirst_AtTheEpochToo_AndRefusesEarlierTimes()
    {
        var clock = new ManualClock(Clock.Now);
        using var key = MlDsa44CosignerKey.Generate("example.com/log", clock);

        byte[] signature = key.Sign(Utf8(Checkpoint));
        Assert.Equal(MlDsa44.TimestampedSignatureSize, signature.Length);
        Assert.Equal((ulong)Clock.Now.ToUnixTimeSeconds(), BinaryPrimitives.ReadUInt64BigEndian(signature));
        Assert.True(key.Verifier.Verify(Utf8(Checkpoint), signature));

        clock.Now = DateTimeOffset.UnixEpoch;
        byte[] atEpoch = key.Sign(Utf8(Checkpoint));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64BigEndian(atEpoch));
        Assert.True(key.Verifier.Verify(Utf8(Checkpoint), atEpoch));

        clock.Now = DateTimeOffset.UnixEpoch.AddSeconds(-1);
        var ex = Assert.Throws<InvalidOperationException>(() => key.Sign(Utf8(Checkpoint)));
        Assert.Equal("the clock reads 1969-12-31T23:59:59.0000000+00:00, before 1970; a cosignature timestamp cannot be negative", ex.Message);
    }

    [Fact]
    public void MlDsa44Sign_IsHedged_TwoSignaturesOfOneCheckpointDiffer()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        Assert.NotEqual(key.Sign(Utf8(Checkpoint)), key.Sign(Utf8(Checkpoint)));
    }

    [Fact]
    public void CosignedMessage_IsLaidOutAsTheSpecSays()
    {
        byte[] root = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
        var header = new CheckpointHeader("o"u8.ToArray(), 9, new Sha256Digest(root));

        byte[] expected =
        [
            .. "subtree/v1\n\0"u8, 2, (byte)'a', (byte)'b', 1, 2, 3, 4, 5, 6, 7, 8, 1, (byte)'o',
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, .. root,
        ];
        Assert.Equal(expected, MlDsa44.CosignedMessage("ab"u8, 0x0102030405060708, header));
    }

    [Fact]
    public void CosignedMessage_RefusesNamesAndOriginsOutside1To255Bytes()
    {
        var origin = new CheckpointHeader("o"u8.ToArray(), 1, default);
        var longestOrigin = new CheckpointHeader(new byte[255], 1, default);
        Assert.Equal(12 + 1 + 255 + 8 + 1 + 1 + 16 + 32, MlDsa44.CosignedMessage(new byte[255], 0, origin).Length);
        Assert.Equal(12 + 1 + 1 + 8 + 1 + 255 + 16 + 32, MlDsa44.CosignedMessage("n"u8, 0, longestOrigin).Length);

        foreach (var (name, header) in new[]
        {
            (Array.Empty<byte>(), origin),
            (new byte[256], origin),
            ("n"u8.ToArray(), new CheckpointHeader([], 1, default)),
            ("n"u8.ToArray(), new CheckpointHeader(new byte[256], 1, default)),
        })
        {
            var ex = Assert.Throws<ArgumentException>(() => MlDsa44.CosignedMessage(name, 0, header));
            Assert.Equal("cosigner name and log origin must be 1 to 255 bytes", ex.Message);
        }
    }

    [Fact]
    public void MlDsa44Verifier_AcceptsTheLargestSignedTimestamp_AndRefusesOnePastIt()
    {
        var privateKey = MlDsa44.PrivateKeyFromSeed(Convert.FromHexString(TorchwoodSeedHex));
        var verifier = MlDsa44CosignatureVerifier.Create(TorchwoodName, privateKey.GetPublicKeyEncoded())!;
        Assert.True(CheckpointHeader.TryParse(Utf8(TorchwoodCheckpoint), out var checkpoint, out _));

        byte[] Cosign(ulong timestamp)
        {
            var signature = MlDsa44.Sign(privateKey, MlDsa44.CosignedMessage(Encoding.UTF8.GetBytes(TorchwoodName), timestamp, checkpoint));
            byte[] result = new byte[MlDsa44.TimestampedSignatureSize];
            BinaryPrimitives.WriteUInt64BigEndian(result, timestamp);
            signature.CopyTo(result.AsSpan(sizeof(ulong)));
            return result;
        }

        Assert.True(verifier.Verify(Utf8(TorchwoodCheckpoint), Cosign(long.MaxValue)));
        Assert.False(verifier.Verify(Utf8(TorchwoodCheckpoint), Cosign((ulong)long.MaxValue + 1)));
        Assert.False(verifier.Verify(Utf8("not a checkpoint\n"), Cosign(0)));
    }

    [Fact]
    public void Verifiers_RefuseSignaturesOneByteShortOrLong()
    {
        var ed = VerifierKeys.Parse(PeterVerifierKey);
        byte[] edSignature = Convert.FromBase64String(PeterSignatureBase64)[4..];
        Assert.True(ed.Verify(Utf8(PeterText), edSignature));
        Assert.False(ed.Verify(Utf8(PeterText), edSignature[..^1]));
        Assert.False(ed.Verify(Utf8(PeterText), [.. edSignature, 0]));

        var ml = VerifierKeys.Parse(TorchwoodVerifierKey);
        byte[] mlSignature = Convert.FromBase64String(TorchwoodSignatureBase64)[4..];
        Assert.True(ml.Verify(Utf8(TorchwoodCheckpoint), mlSignature));
        Assert.False(ml.Verify(Utf8(TorchwoodCheckpoint), mlSignature[..^1]));
        Assert.False(ml.Verify(Utf8(TorchwoodCheckpoint), [.. mlSignature, 0]));

        var publicKey = MlDsa44.PublicKey(Convert.FromBase64String(TorchwoodVerifierKey.Split('+', 3)[2])[1..]);
        var message = MlDsa44.CosignedMessage(Encoding.UTF8.GetBytes(TorchwoodName), 0, Header(TorchwoodCheckpoint));
        Assert.True(MlDsa44.Verify(publicKey, message, mlSignature[8..]));
        Assert.False(MlDsa44.Verify(publicKey, message, mlSignature[8..^1]));
        Assert.False(MlDsa44.Verify(publicKey, message, [.. mlSignature[8..], 0]));
    }

    [Fact]
    public void Keys_ShowTheirVerifierKey()
    {
        using var ed = Ed25519NoteKey.ParsePrivateKey(PeterPrivateKey);
        Assert.Equal(PeterVerifierKey, ed.ToString());
        Assert.Equal(PeterVerifierKey, ed.Verifier.ToString());

        using var ml = MlDsa44CosignerKey.ParsePrivateKey(PrivateKeyOf(TorchwoodSeedHex), Clock);
        Assert.Equal(TorchwoodVerifierKey, ml.ToString());
        Assert.Equal(TorchwoodVerifierKey, ml.Verifier.ToString());
    }

    private static CheckpointHeader Header(string text)
    {
        Assert.True(CheckpointHeader.TryParse(Utf8(text), out var header, out _));
        return header;
    }

    private static string PrivateKeyOf(string seedHex) =>
        $"PRIVATE+KEY+{TorchwoodName}+{TorchwoodKeyId:x8}+{Convert.ToBase64String([0x06, .. Convert.FromHexString(seedHex)])}";

    // A disposed key has wiped its seed: every use of it must refuse, not sign with zeros.
    [Fact]
    public void DisposedKeys_RefuseToSignOrFormat()
    {
        var ed = Ed25519NoteKey.Generate("example.com/log");
        ed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ed.Sign("text\n"u8));
        Assert.Throws<ObjectDisposedException>(() => ed.FormatPrivateKey());
        ed.Dispose(); // twice is harmless

        var ml = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        ml.Dispose();
        Assert.Throws<ObjectDisposedException>(() => ml.Sign(Encoding.UTF8.GetBytes(Checkpoint)));
        Assert.Throws<ObjectDisposedException>(() => ml.FormatPrivateKey());
        ml.Dispose();
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("plus+sign")]
    public void Generate_RefusesAnInvalidName_NamingTheArgument(string name)
    {
        Assert.Equal("name", Assert.ThrowsAny<ArgumentException>(() => Ed25519NoteKey.Generate(name)).ParamName);
        Assert.Equal("name", Assert.ThrowsAny<ArgumentException>(() => MlDsa44CosignerKey.Generate(name, Clock)).ParamName);
    }

    // Each generated key has its own random seed (a removed fill would give every key the all-zero seed).
    [Fact]
    public void Generate_GivesEachKeyItsOwnSeed()
    {
        using var ed1 = Ed25519NoteKey.Generate("example.com/log");
        using var ed2 = Ed25519NoteKey.Generate("example.com/log");
        Assert.NotEqual(ed1.FormatPrivateKey(), ed2.FormatPrivateKey());

        using var ml1 = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        using var ml2 = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        Assert.NotEqual(ml1.FormatPrivateKey(), ml2.FormatPrivateKey());
    }
}
