using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;
using Enclave.Signing.Notes;

namespace Enclave.Signing.Tests;

public sealed class VerifierKeysTests
{
    [Fact]
    public void Parse_RejectsAKeyIdThatDoesNotMatchTheKey()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(TestVectors.PeterVerifierKey.Replace("c74f20a3", "c74f20a4", StringComparison.Ordinal)));

        Assert.Contains("key ID c74f20a4 does not match the key (c74f20a3)", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PeterNeumann+c74f20a3+!Rpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")] // not a base64 character
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T")] // length not a multiple of 4
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ")] // trailing space
    [InlineData("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izW y10TW")] // space inside
    [InlineData("PeterNeumann+c74f20a3+")] // no key
    public void Parse_RejectsBadBase64(string vkey)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(vkey));

        Assert.Contains("base64", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0x05)]
    [InlineData(0xff)]
    public void Parse_RejectsUnknownSignatureTypes(int type)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", (byte)type, new byte[32])));

        Assert.Contains($"unknown signature type 0x{type:x2}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsTimestampedEd25519CosignatureKeys_AsUnsupported()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", 0x04, new byte[32])));

        Assert.Contains("0x04", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Peter+Neumann")]
    [InlineData("Peter Neumann")]
    [InlineData("Peter\u00a0Neumann")] // no-break space
    [InlineData("Peter\u2028Neumann")] // line separator
    [InlineData("")]
    public void Parse_RejectsInvalidKeyNames(string name)
    {
        var text = TestVectors.PeterVerifierKey.Replace("PeterNeumann", name, StringComparison.Ordinal);

        Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(text));
    }

    [Fact]
    public void Parse_RejectsAnUpperCaseKeyId()
    {
        Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(TestVectors.PeterVerifierKey.Replace("c74f20a3", "C74F20A3", StringComparison.Ordinal)));
    }

    [Fact]
    public void Parse_RejectsAnEd25519KeyOfSmallOrder_EvenWithAMatchingKeyId()
    {
        byte[] identity = [1, .. new byte[31]]; // the neutral point: any signature would verify for it

        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", 0x01, identity)));

        Assert.Contains("prime order", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x01, 31)]
    [InlineData(0x01, 33)]
    [InlineData(0x06, 1311)]
    [InlineData(0x06, 1313)]
    public void Parse_RejectsPublicKeysOfTheWrongLength_EvenWithAMatchingKeyId(int type, int length)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", (byte)type, new byte[length])));

        Assert.Contains($"got {length}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RejectsAnMlDsaKeyWhoseNameIsTooLongForACosignedMessage()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", TimeProvider.System);
        var publicKey = Convert.FromBase64String(key.VerifierKey.Split('+', 3)[2])[1..];

        Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey(new string('n', 256), 0x06, publicKey)));
        Assert.Equal(255, VerifierKeys.Parse(VerifierKey(new string('n', 255), 0x06, publicKey)).Name.Length);
    }

    [Fact]
    public void Parse_RejectsTextOverTheLengthLimit()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(new string('a', 8193)));

        Assert.Contains("over the limit", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PeterNeumann")]
    [InlineData("PeterNeumann+c74f20a3")]
    public void Parse_RejectsTextWithMissingFields(string vkey)
    {
        Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(vkey));
    }

    /// <summary>A vkey with the key ID computed as the spec says, so only the checked property is wrong.</summary>
    private static string VerifierKey(string name, byte type, byte[] key)
    {
        byte[] hashed = [.. Encoding.UTF8.GetBytes(name), (byte)'\n', type, .. key];
        var keyId = BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(hashed));
        return $"{name}+{keyId:x8}+{Convert.ToBase64String([type, .. key])}";
    }
}
