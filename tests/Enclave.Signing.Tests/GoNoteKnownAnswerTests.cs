using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;
using static Enclave.Signing.Tests.TestVectors;

namespace Enclave.Signing.Tests;

/// <summary>The vectors and cases of golang.org/x/mod/sumdb/note (note_test.go and its documentation example).</summary>
public sealed class GoNoteKnownAnswerTests
{
    private static readonly INoteVerifier Peter = VerifierKeys.Parse(PeterVerifierKey);
    private static readonly INoteVerifier Enoch = VerifierKeys.Parse(EnochVerifierKey);

    [Fact]
    public void Open_VerifiesTheGoDocumentationExample()
    {
        var opened = SignedNote.Open(Utf8(PeterText + "\n" + PeterSignatureLine), [Peter]);

        Assert.Equal(PeterText, opened.Text);
        var signature = Assert.Single(opened.Verified);
        Assert.Equal(new NoteSignature { Name = "PeterNeumann", KeyId = 0xc74f20a3, Base64 = PeterSignatureBase64 }, signature);
        Assert.Empty(opened.Unverified);
    }

    [Fact]
    public void ParseVerifierKey_ReadsNameAndKeyIdOfTheGoExample()
    {
        Assert.Equal("PeterNeumann", Peter.Name);
        Assert.Equal(0xc74f20a3u, Peter.KeyId);
        Assert.Equal("EnochRoot", Enoch.Name);
        Assert.Equal(0xaf0cfe78u, Enoch.KeyId);
    }

    [Fact]
    public void Sign_WithTheGoPrivateKey_ReproducesTheGoSignatureExactly()
    {
        using var key = Ed25519NoteKey.ParsePrivateKey(PeterPrivateKey);

        Assert.Equal(PeterVerifierKey, key.VerifierKey);
        Assert.Equal(PeterPrivateKey, key.FormatPrivateKey());
        Assert.Equal(PeterText + "\n" + PeterSignatureLine, SignedNote.Sign(PeterText, key));
    }

    [Fact]
    public void Open_WithOneOfTwoKeysKnown_VerifiesOneAndReportsTheOtherUnverified()
    {
        var opened = SignedNote.Open(Utf8(PeterText + "\n" + PeterSignatureLine + EnochSignatureLine), [Peter]);

        Assert.Equal("PeterNeumann", Assert.Single(opened.Verified).Name);
        var unverified = Assert.Single(opened.Unverified);
        Assert.Equal(new NoteSignature { Name = "EnochRoot", KeyId = 0xaf0cfe78, Base64 = EnochSignatureBase64 }, unverified);
    }

    [Fact]
    public void Open_WithBothKeysKnown_VerifiesBothInNoteOrder()
    {
        var opened = SignedNote.Open(Utf8(PeterText + "\n" + PeterSignatureLine + EnochSignatureLine), [Enoch, Peter]);

        Assert.Equal(["PeterNeumann", "EnochRoot"], opened.Verified.Select(s => s.Name));
        Assert.Empty(opened.Unverified);
    }

    [Fact]
    public void Open_WithNoKnownKey_RejectsTheNote()
    {
        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(PeterText + "\n" + PeterSignatureLine + EnochSignatureLine), []));

        Assert.Equal(NoteRejection.NoKnownSignature, ex.Reason);
        Assert.Contains("PeterNeumann+c74f20a3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RejectsASignatureFromAKeyListedTwice_ButNotAnUnusedDuplicate()
    {
        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(PeterText + "\n" + EnochSignatureLine), [Enoch, Peter, Enoch]));
        Assert.Equal(NoteRejection.AmbiguousKey, ex.Reason);

        var opened = SignedNote.Open(Utf8(PeterText + "\n" + PeterSignatureLine), [Enoch, Peter, Enoch]);
        Assert.Equal("PeterNeumann", Assert.Single(opened.Verified).Name);
    }

    [Fact]
    public void Open_Rejects101Signatures_WhetherOrNotTheKeyIsKnown()
    {
        var note = Utf8(PeterText + "\n" + string.Concat(Enumerable.Repeat(PeterSignatureLine, 101)));

        Assert.Equal(NoteRejection.TooManySignatures, Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [Peter])).Reason);
        Assert.Equal(NoteRejection.TooManySignatures, Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [])).Reason);
    }

    [Fact]
    public void Open_RejectsAKnownKeysSignatureWithFourBytesInserted()
    {
        // Go: peterSig[:60] + "ABCD" + peterSig[60:], byte offsets.
        var note = InsertAt(PeterText + "\n" + PeterSignatureLine, Utf8(PeterText).Length + 1 + 60, "ABCD");

        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [Peter]));

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
        Assert.Contains("PeterNeumann+c74f20a3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_DropsRepeatedIdenticalSignatureLines()
    {
        var enochAbcd = System.Text.Encoding.UTF8.GetString(InsertAt(EnochSignatureLine, 60, "ABCD"));
        var note = Utf8(PeterText + "\n" + PeterSignatureLine + PeterSignatureLine + EnochSignatureLine + EnochSignatureLine + enochAbcd);

        var opened = SignedNote.Open(note, [Peter]);

        Assert.Equal("PeterNeumann", Assert.Single(opened.Verified).Name);
        Assert.Equal(
            [EnochSignatureBase64, "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n" + "ABCD" + "2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="],
            opened.Unverified.Select(s => s.Base64));
    }

    public static TheoryData<string, byte[]> GoMalformedNotes()
    {
        var truncated = PeterText + "\n" + PeterSignatureLine[..^1];
        return new TheoryData<string, byte[]>
        {
            { "text only", Utf8(PeterText) },
            { "blank line, no signatures", Utf8(PeterText + "\n") },
            { "signature line without newline", Utf8(truncated) },
            { "control character", Utf8("\u0001" + PeterText + "\n" + PeterSignatureLine) },
            { "invalid UTF-8", [0xff, .. Utf8(PeterText + "\n" + PeterSignatureLine)] },
            { "space in key name", Utf8(PeterText + "\n\u2014 Bad Name " + PeterSignatureBase64) },
            { "line that is not a signature", Utf8(PeterText + "\n" + PeterSignatureLine + "Unexpected line.\n") },
        };
    }

    [Theory]
    [MemberData(nameof(GoMalformedNotes))]
    public void Open_RejectsGoMalformedNotes_AsMalformed(string why, byte[] note)
    {
        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [Peter]));

        Assert.True(ex.Reason == NoteRejection.Malformed, $"{why}: {ex.Reason} {ex.Message}");
    }

    [Fact]
    public void ParseVerifierKey_RejectsEverySubstringAndEveryOneCharacterChange_OfTheGoKey()
    {
        // Go's TestNewVerifier manglings: every proper substring, and every character incremented.
        var failures = new List<string>();
        foreach (var mangled in Manglings(PeterVerifierKey))
        {
            try
            {
                VerifierKeys.Parse(mangled);
                failures.Add(mangled);
            }
            catch (EnclaveFormatException)
            {
                // expected
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public void ParseVerifierKey_RejectsGoWrongLengthAndUnknownAlgorithmKeys_WithAdjustedKeyIds()
    {
        Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="));
        var ex = Assert.Throws<EnclaveFormatException>(() => VerifierKeys.Parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"));
        Assert.Contains("unknown signature type 0x65", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePrivateKey_RejectsEverySubstringAndEveryOneCharacterChange_OfTheGoKey()
    {
        var failures = new List<string>();
        foreach (var mangled in Manglings(PeterPrivateKey))
        {
            try
            {
                Ed25519NoteKey.ParsePrivateKey(mangled).Dispose();
                failures.Add(mangled);
            }
            catch (EnclaveFormatException)
            {
                // expected
            }
        }

        Assert.Empty(failures);
    }

    private static IEnumerable<string> Manglings(string key)
    {
        for (var i = 0; i <= key.Length; i++)
        {
            for (var j = i + 1; j <= key.Length; j++)
            {
                if (i != 0 || j != key.Length)
                {
                    yield return key[i..j];
                }
            }
        }

        for (var i = 0; i < key.Length; i++)
        {
            var chars = key.ToCharArray();
            chars[i]++;
            yield return new string(chars);
        }
    }
}
