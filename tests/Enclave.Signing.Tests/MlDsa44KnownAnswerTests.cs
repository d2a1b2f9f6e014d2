using System.Buffers.Binary;
using System.Formats.Asn1;
using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;
using static Enclave.Signing.Tests.TestVectors;

namespace Enclave.Signing.Tests;

/// <summary>ML-DSA-44 against vectors made by other implementations (filippo.io/mldsa, Cloudflare CIRCL).</summary>
public sealed class MlDsa44KnownAnswerTests
{
    private static readonly string TorchwoodNote =
        TorchwoodCheckpoint + "\n\u2014 " + TorchwoodName + " " + TorchwoodSignatureBase64 + "\n";

    [Fact]
    public void Open_VerifiesTheTorchwoodMlDsa44Cosignature()
    {
        var verifier = VerifierKeys.Parse(TorchwoodVerifierKey);

        var opened = SignedNote.Open(Utf8(TorchwoodNote), [verifier]);

        Assert.Equal(TorchwoodName, verifier.Name);
        Assert.Equal(TorchwoodKeyId, verifier.KeyId);
        Assert.Equal(TorchwoodCheckpoint, opened.Text);
        var signature = Assert.Single(opened.Verified);
        Assert.Equal(TorchwoodKeyId, signature.KeyId);
        Assert.Equal(0ul, BinaryPrimitives.ReadUInt64BigEndian(Convert.FromBase64String(signature.Base64).AsSpan(4)));
    }

    [Fact]
    public void Open_RejectsTheTorchwoodCosignature_WhenTheTreeSizeIsChanged()
    {
        var note = TorchwoodNote.Replace("\n1\n", "\n2\n", StringComparison.Ordinal);

        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(note), [VerifierKeys.Parse(TorchwoodVerifierKey)]));

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
    }

    [Fact]
    public void Open_RejectsTheTorchwoodCosignature_WhenItsTimestampIsChanged()
    {
        var bytes = Convert.FromBase64String(TorchwoodSignatureBase64);
        bytes[4 + 7] = 1; // timestamp 0 -> 1
        var note = TorchwoodCheckpoint + "\n\u2014 " + TorchwoodName + " " + Convert.ToBase64String(bytes) + "\n";

        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(note), [VerifierKeys.Parse(TorchwoodVerifierKey)]));

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
    }

    [Fact]
    public void Open_AcceptsTheTorchwoodCosignature_WithAnExtensionLineAdded_BecauseTheSpecDoesNotSignExtensions()
    {
        // c2sp.org/tlog-cosignature: "checkpoint extension lines are not included in the signed message for
        // ML-DSA-44 cosignatures". A caller that trusts extension lines needs a signature that covers them.
        var note = TorchwoodCheckpoint + "extension line\n\n\u2014 " + TorchwoodName + " " + TorchwoodSignatureBase64 + "\n";

        var opened = SignedNote.Open(Utf8(note), [VerifierKeys.Parse(TorchwoodVerifierKey)]);

        Assert.EndsWith("extension line\n", opened.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePrivateKey_FromTheTorchwoodSeed_HasTheTorchwoodVerifierKey()
    {
        var seed = Convert.FromHexString(TorchwoodSeedHex);
        var text = $"PRIVATE+KEY+{TorchwoodName}+b5df45c5+{Convert.ToBase64String([0x06, .. seed])}";

        using var key = MlDsa44CosignerKey.ParsePrivateKey(text, new ManualClock(DateTimeOffset.UnixEpoch));

        Assert.Equal(TorchwoodVerifierKey, key.VerifierKey);
        Assert.Equal(text, key.FormatPrivateKey());
    }

    [Fact]
    public void Sign_WithTheTorchwoodSeed_ProducesACosignatureThatTheTorchwoodVerifierKeyAccepts()
    {
        var seed = Convert.FromHexString(TorchwoodSeedHex);
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_679_315_147));
        using var key = MlDsa44CosignerKey.ParsePrivateKey($"PRIVATE+KEY+{TorchwoodName}+b5df45c5+{Convert.ToBase64String([0x06, .. seed])}", clock);

        var note = SignedNote.Sign(TorchwoodCheckpoint, key);
        var opened = SignedNote.Open(Utf8(note), [VerifierKeys.Parse(TorchwoodVerifierKey)]);

        var line = Convert.FromBase64String(Assert.Single(opened.Verified).Base64);
        Assert.Equal(4 + 8 + 2420, line.Length);
        Assert.Equal(1_679_315_147ul, BinaryPrimitives.ReadUInt64BigEndian(line.AsSpan(4)));
    }

    [Fact]
    public void PrivateKeyFromSeed_MatchesTheRfc9881ExampleCertificateKey_AndVerifiesItsSignature()
    {
        var (tbs, publicKey, signature) = ReadCertificate(Convert.FromBase64String(Rfc9881MlDsa44CertificateBase64));
        var seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();

        var derived = MlDsa44.PrivateKeyFromSeed(seed).GetPublicKeyEncoded();

        Assert.Equal(publicKey, derived);
        Assert.True(MlDsa44.Verify(MlDsa44.PublicKey(publicKey), tbs, signature));
        tbs[^1] ^= 1;
        Assert.False(MlDsa44.Verify(MlDsa44.PublicKey(publicKey), tbs, signature));
    }

    [Fact]
    public void CosignedMessage_HasTheTlogCosignatureLayout()
    {
        var root = new Sha256Digest("0123456789abcdef0123456789abcdef"u8);
        var checkpoint = new CheckpointHeader(Utf8("example.com/log"), 20852163, root);

        var message = MlDsa44.CosignedMessage("mirror.test/m1"u8, 1679315147, checkpoint);

        byte[] expected =
        [
            .. "subtree/v1\n\0"u8,
            14, .. "mirror.test/m1"u8,
            0, 0, 0, 0, 0x64, 0x18, 0x50, 0xcb, // 1679315147
            15, .. "example.com/log"u8,
            0, 0, 0, 0, 0, 0, 0, 0, // start
            0, 0, 0, 0, 0x01, 0x3e, 0x2d, 0xc3, // end 20852163
            .. "0123456789abcdef0123456789abcdef"u8,
        ];
        Assert.Equal(expected, message);
    }

    private static (byte[] Tbs, byte[] PublicKey, byte[] Signature) ReadCertificate(byte[] der)
    {
        var certificate = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadEncodedValue().ToArray();
        certificate.ReadSequence(); // signatureAlgorithm
        var signature = certificate.ReadBitString(out _);

        var fields = new AsnReader(tbs, AsnEncodingRules.DER).ReadSequence();
        fields.ReadEncodedValue(); // [0] version
        fields.ReadEncodedValue(); // serialNumber
        fields.ReadEncodedValue(); // signature
        fields.ReadEncodedValue(); // issuer
        fields.ReadEncodedValue(); // validity
        fields.ReadEncodedValue(); // subject
        var spki = fields.ReadSequence();
        spki.ReadSequence(); // algorithm
        var publicKey = spki.ReadBitString(out _);
        return (tbs, publicKey, signature);
    }
}
