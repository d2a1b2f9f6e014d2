using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;
using static Enclave.Signing.Tests.TestVectors;

namespace Enclave.Signing.Tests;

/// <summary>
/// The key-text, key-name and checkpoint-header edges that mutation testing (issue #18) checks: every refusal by its
/// exact message, each length bound at its value and one past it, strict base64 (padding, canonical bits, the
/// stack-buffer bound), and the argument checks.
/// </summary>
public sealed class KeyTextEdgeTests
{
    private const string Root = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    private const string PeterKey = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    [Fact]
    public void Parsers_NameTheNullArgument()
    {
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => VerifierKeys.Parse(null!)).ParamName);
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => Ed25519NoteKey.ParsePrivateKey(null!)).ParamName);
    }

    [Fact]
    public void VerifierKey_AtTheLengthBound_IsParsed_AndOnePastItIsRefused()
    {
        Assert.Equal(
            "verifier key rejected: expected <name>+<8 hex digit key ID>+<base64 key>",
            Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(new string('a', KeyText.MaxLength))).Message);
        Assert.Equal(
            "verifier key rejected: it is 8193 characters, over the limit of 8192",
            Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(new string('a', KeyText.MaxLength + 1))).Message);
    }

    [Fact]
    public void PrivateKey_AtTheLengthBound_IsParsed_AndOnePastItIsRefused()
    {
        string at = "PRIVATE+KEY+" + new string('a', KeyText.MaxLength - 12);
        Assert.Equal(
            "private key rejected: expected PRIVATE+KEY+<name>+<8 hex digit key ID>+<base64 key>",
            Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(at)).Message);
        Assert.Equal(
            "private key rejected: it is 8193 characters, over the limit of 8192",
            Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(at + "a")).Message);
        Assert.Equal(
            "private key rejected: it must start with 'PRIVATE+KEY+' (is this a verifier key or another file?)",
            Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(PeterVerifierKey)).Message);
    }

    [Theory]
    [InlineData("PeterNeumann", "verifier key rejected: expected <name>+<8 hex digit key ID>+<base64 key>")]
    [InlineData("PeterNeumann+c74f20a3", "verifier key rejected: expected <name>+<8 hex digit key ID>+<base64 key>")]
    [InlineData("+c74f20a3+" + PeterKey, "verifier key rejected: the key name is empty")]
    [InlineData("Peter Neumann+c74f20a3+" + PeterKey, "verifier key rejected: the key name contains the space character U+0020")]
    [InlineData("Peter\u00a0Neumann+c74f20a3+" + PeterKey, "verifier key rejected: the key name contains the space character U+00A0")]
    [InlineData("Peter\u2028Neumann+c74f20a3+" + PeterKey, "verifier key rejected: the key name contains the space character U+2028")]
    [InlineData("Peter\u001fNeumann+c74f20a3+" + PeterKey, "verifier key rejected: the key name contains the control character U+001F")]
    [InlineData("PeterNeumann++" + PeterKey, "verifier key 'PeterNeumann' rejected: the key ID must be exactly 8 lower-case hexadecimal digits")]
    [InlineData("PeterNeumann+c74f20a+" + PeterKey, "verifier key 'PeterNeumann' rejected: the key ID must be exactly 8 lower-case hexadecimal digits")]
    [InlineData("PeterNeumann+c74f20a30+" + PeterKey, "verifier key 'PeterNeumann' rejected: the key ID must be exactly 8 lower-case hexadecimal digits")]
    [InlineData("PeterNeumann+c74F20a3+" + PeterKey, "verifier key 'PeterNeumann' rejected: the key ID must be exactly 8 lower-case hexadecimal digits")]
    [InlineData("PeterNeumann+c74f20a3+AQ==", "verifier key 'PeterNeumann' rejected: the key is not canonical standard base64 of a type byte and key material (trailing whitespace?)")]
    [InlineData("PeterNeumann+c74f20a3+AQB=", "verifier key 'PeterNeumann' rejected: the key is not canonical standard base64 of a type byte and key material (trailing whitespace?)")]
    [InlineData("PeterNeumann+c74f20a3+AQA=", "verifier key 'PeterNeumann' rejected: an Ed25519 public key is 32 bytes, got 1")]
    [InlineData("PeterNeumann+c74f20a4+" + PeterKey, "verifier key 'PeterNeumann' rejected: its key ID c74f20a4 does not match the key (c74f20a3); the text is corrupt or was edited")]
    public void VerifierKey_Refusals_SayExactlyWhy(string vkey, string message)
    {
        Assert.Equal(message, Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(vkey)).Message);
    }

    [Theory]
    [InlineData(0x01, 31, "an Ed25519 public key is 32 bytes, got 31")]
    [InlineData(0x01, 33, "an Ed25519 public key is 32 bytes, got 33")]
    [InlineData(0x06, 1311, "an ML-DSA-44 public key is 1312 bytes, got 1311")]
    [InlineData(0x06, 1313, "an ML-DSA-44 public key is 1312 bytes, got 1313")]
    [InlineData(0x04, 32, "type 0x04 (timestamped Ed25519 cosignature) is not supported; use 0x01 or 0x06")]
    [InlineData(0x02, 32, "unknown signature type 0x02; supported are 0x01 (Ed25519) and 0x06 (ML-DSA-44 cosignature)")]
    public void VerifierKey_OfAWrongTypeOrLength_SaysWhich(int type, int length, string why)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", (byte)type, new byte[length])));
        Assert.Equal($"verifier key 'example.com/log' rejected: {why}", ex.Message);
    }

    [Fact]
    public void VerifierKey_OfSmallOrder_OrWithANameTooLongToCosign_SaysWhich()
    {
        byte[] identity = [1, .. new byte[31]];
        Assert.Equal(
            "verifier key 'example.com/log' rejected: the Ed25519 public key is not a valid point of prime order",
            Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey("example.com/log", 0x01, identity))).Message);

        byte[] mlDsa = Convert.FromBase64String(TorchwoodVerifierKey.Split('+', 3)[2])[1..];
        string name = new('n', 256);
        Assert.Equal(
            $"verifier key '{name}' rejected: a cosigner name is at most 255 UTF-8 bytes",
            Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse(VerifierKey(name, 0x06, mlDsa))).Message);
    }

    [Fact]
    public void VerifierKey_WithAnUnpairedSurrogateInItsName_IsRefused()
    {
        // Not an [InlineData] case: attribute strings are stored as UTF-8, which cannot hold a lone surrogate.
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse("Peter\ud800Neumann+c74f20a3+" + PeterKey));
        Assert.Equal("verifier key rejected: the key name contains an unpaired surrogate", ex.Message);
    }

    [Fact]
    public void KeyNames_AreCheckedWithTheirParameterName()
    {
        Assert.Equal("name", Assert.Throws<ArgumentNullException>(() => Ed25519NoteKey.Generate(null!)).ParamName);
        Assert.Equal(
            "invalid note key name: the key name contains '+' (Parameter 'name')",
            Assert.Throws<ArgumentException>(() => Ed25519NoteKey.Generate("a+b")).Message);
        Assert.Equal(
            "invalid note key name: the key name is empty (Parameter 'name')",
            Assert.Throws<ArgumentException>(() => Ed25519NoteKey.Generate(string.Empty)).Message);
        Assert.Equal(
            "invalid note key name: the key name contains the control character U+0001 (Parameter 'name')",
            Assert.Throws<ArgumentException>(() => Ed25519NoteKey.Generate("a\u0001b")).Message);
        Assert.Null(KeyName.Problem("log.example/\U0001F600~\u007f"));
    }

    [Theory]
    [InlineData("AQA=", new byte[] { 1, 0 })]
    [InlineData("AQ==", new byte[] { 1 })]
    [InlineData("+/8=", new byte[] { 0xfb, 0xff })]
    public void TryDecodeBase64_AcceptsCanonicalPaddedText(string text, byte[] expected)
    {
        Assert.True(KeyText.TryDecodeBase64(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("AQA")]
    [InlineData("AQB=")]
    [InlineData("AR==")]
    [InlineData("AQ=A")]
    [InlineData("A===")]
    [InlineData("AQ A")]
    [InlineData("AQ-_")]
    public void TryDecodeBase64_RefusesOtherText_AndGivesNoBytes(string text)
    {
        Assert.False(KeyText.TryDecodeBase64(text, out var bytes));
        Assert.Empty(bytes);
    }

    [Theory]
    [InlineData(192)] // exactly 256 characters: the stack buffer
    [InlineData(193)] // 260 characters: a heap buffer
    [InlineData(1313)] // an ML-DSA-44 verifier key's type and public key
    public void TryDecodeBase64_RoundTripsTextsAroundTheStackBufferBound(int length)
    {
        byte[] data = [.. Enumerable.Range(0, length).Select(i => (byte)(i * 7))];
        Assert.True(KeyText.TryDecodeBase64(Convert.ToBase64String(data), out var bytes));
        Assert.Equal(data, bytes);
    }

    [Fact]
    public void CheckpointHeader_OfAValidCheckpoint_GivesAnEmptyProblem_AndAcceptsSizeZero()
    {
        Assert.True(CheckpointHeader.TryParse(Utf8($"o\n0\n{Root}\n"), out var header, out var problem));
        Assert.Equal(string.Empty, problem);
        Assert.Equal(0UL, header.Size);
        Assert.Equal("o"u8.ToArray(), header.Origin);
    }

    [Theory]
    [InlineData("")]
    [InlineData("example.com/log\n")]
    [InlineData("example.com/log\n7\n")]
    public void CheckpointHeader_WithFewerThanThreeLines_SaysSo(string text)
    {
        Assert.False(CheckpointHeader.TryParse(Utf8(text), out var header, out var problem));
        Assert.Equal("a checkpoint has at least three newline-terminated lines (origin, tree size, root hash)", problem);
        Assert.Equal(default(CheckpointHeader), header);
    }

    [Fact]
    public void CheckpointHeader_RefusesAnOriginThatIsNotUtf8_OrTooLong_SayingHowLong()
    {
        byte[] notUtf8 = [0xff, (byte)'\n', (byte)'1', (byte)'\n', .. Utf8(Root), (byte)'\n'];
        Assert.False(CheckpointHeader.TryParse(notUtf8, out _, out var problem));
        Assert.Equal("line 1 (origin) must be 1 to 255 bytes of UTF-8, got 1 bytes", problem);

        Assert.False(CheckpointHeader.TryParse(Utf8($"{new string('o', 256)}\n1\n{Root}\n"), out _, out problem));
        Assert.Equal("line 1 (origin) must be 1 to 255 bytes of UTF-8, got 256 bytes", problem);
    }

    [Theory]
    [InlineData("1:")]
    [InlineData("1/")]
    [InlineData("00")]
    [InlineData("184467440737095516150")]
    public void CheckpointHeader_RefusesASizeThatIsNotACanonicalNumber(string size)
    {
        Assert.False(CheckpointHeader.TryParse(Utf8($"example.com/log\n{size}\n{Root}\n"), out _, out var problem));
        Assert.Equal("line 2 (tree size) is not a decimal number without leading zeros that fits in 64 bits", problem);
    }

    [Fact]
    public void CheckpointHeader_RefusesARootLineThatIsNot44AsciiCharacters()
    {
        // 45 and 43 characters, and 44 bytes that are 43 characters (an e-acute is two bytes of UTF-8).
        foreach (string root in new[] { Root + "A", Root[1..], new string('A', 42) + "\u00e9" })
        {
            Assert.False(CheckpointHeader.TryParse(Utf8($"example.com/log\n7\n{root}\n"), out _, out var problem));
            Assert.Equal("line 3 (root hash) is not the base64 encoding of a 32-byte hash", problem);
        }
    }

    /// <summary>A vkey with the key ID computed as the spec says, so only the checked property is wrong.</summary>
    private static string VerifierKey(string name, byte type, byte[] key)
    {
        byte[] hashed = [.. Encoding.UTF8.GetBytes(name), (byte)'\n', type, .. key];
        var keyId = BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(hashed));
        return $"{name}+{keyId:x8}+{Convert.ToBase64String([type, .. key])}";
    }
}
