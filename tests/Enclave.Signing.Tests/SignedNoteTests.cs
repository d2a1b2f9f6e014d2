using System.Buffers.Binary;
using System.Text;
using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;

namespace Enclave.Signing.Tests;

public sealed class SignedNoteTests : IDisposable
{
    private const string Origin = "example.com/enclave-log";
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly string Checkpoint = $"{Origin}\n42\n{Sha256Digest.Compute("root"u8).ToBase64()}\n";

    private readonly Ed25519NoteKey _ed = Ed25519NoteKey.Generate(Origin);
    private readonly MlDsa44CosignerKey _ml = MlDsa44CosignerKey.Generate(Origin, new ManualClock(Now));

    public void Dispose()
    {
        _ed.Dispose();
        _ml.Dispose();
    }

    [Fact]
    public void Open_WithOnlyTheEd25519Key_VerifiesItAndIgnoresTheMlDsaLineAsUnknown()
    {
        var note = SignedNote.Sign(Checkpoint, _ed, _ml);

        var opened = SignedNote.Open(Utf8(note), [_ed.Verifier]);

        Assert.Equal(Checkpoint, opened.Text);
        Assert.Equal(_ed.KeyId, Assert.Single(opened.Verified).KeyId);
        Assert.Equal(_ml.KeyId, Assert.Single(opened.Unverified).KeyId);
    }

    [Fact]
    public void Open_WithBothKeys_VerifiesBoth_AndTheCosignatureCarriesTheClockTime()
    {
        var note = SignedNote.Sign(Checkpoint, _ed, _ml);

        var opened = SignedNote.Open(Utf8(note), [VerifierKeys.Parse(_ed.VerifierKey), VerifierKeys.Parse(_ml.VerifierKey)]);

        Assert.Equal([_ed.KeyId, _ml.KeyId], opened.Verified.Select(s => s.KeyId));
        Assert.Empty(opened.Unverified);
        var cosignature = Convert.FromBase64String(opened.Verified[1].Base64);
        Assert.Equal((ulong)Now.ToUnixTimeSeconds(), BinaryPrimitives.ReadUInt64BigEndian(cosignature.AsSpan(4)));
    }

    [Fact]
    public void Open_WithOnlyTheMlDsaKey_VerifiesTheCosignature()
    {
        var note = SignedNote.Sign(Checkpoint, _ed, _ml);

        var opened = SignedNote.Open(Utf8(note), [_ml.Verifier]);

        Assert.Equal(_ml.KeyId, Assert.Single(opened.Verified).KeyId);
        Assert.Equal(_ed.KeyId, Assert.Single(opened.Unverified).KeyId);
    }

    [Fact]
    public void SignThenOpen_KeepsATextWithBlankLines_SplittingAtTheLastBlankLine()
    {
        const string text = "first\n\n\nafter two blank lines\n\n";

        var opened = SignedNote.Open(Utf8(SignedNote.Sign(text, _ed)), [_ed.Verifier]);

        Assert.Equal(text, opened.Text);
    }

    [Fact]
    public void Open_ParsesTheC2spSpecExample_AndIgnoresAKeyThatOnlySharesItsName()
    {
        // The spec publishes no public key for its example; a key with the same name but another ID is unknown.
        using var sameName = Ed25519NoteKey.Generate("quasimodo.example/salvatore");

        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(TestVectors.QuasimodoNote), [sameName.Verifier]));

        Assert.Equal(NoteRejection.NoKnownSignature, ex.Reason);
        Assert.Contains("quasimodo.example/salvatore+", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RejectsTheNote_WhenOneTextByteIsFlipped()
    {
        var note = Utf8(SignedNote.Sign(Checkpoint, _ed, _ml));
        note[3] ^= 0x01; // 'm' -> 'l' in the origin

        Assert.Equal(NoteRejection.BadSignature, Reject(note, _ed.Verifier).Reason);
        Assert.Equal(NoteRejection.BadSignature, Reject(note, _ml.Verifier).Reason);
    }

    [Fact]
    public void Open_RejectsTheNote_WhenOneSignatureCharacterIsChanged()
    {
        var note = SignedNote.Sign(Checkpoint, _ed);
        var at = note.LastIndexOf(' ') + 20; // inside the signature, after the key ID
        var tampered = note[..at] + (note[at] == 'A' ? 'B' : 'A') + note[(at + 1)..];

        var ex = Reject(Utf8(tampered), _ed.Verifier);

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
        Assert.Contains($"{Origin}+{_ed.KeyId:x8}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RejectsEveryTruncationOfASignedNote()
    {
        var note = Utf8(SignedNote.Sign(Checkpoint, _ed));

        for (var length = 0; length < note.Length; length++)
        {
            Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note.AsSpan(0, length), [_ed.Verifier]));
        }
    }

    [Fact]
    public void Open_RejectsANoteWithoutTheBlankLine_AsMalformed()
    {
        var note = SignedNote.Sign(Checkpoint, _ed).Replace("\n\n", "\n", StringComparison.Ordinal);

        var ex = Reject(Utf8(note), _ed.Verifier);

        Assert.Equal(NoteRejection.Malformed, ex.Reason);
        Assert.Contains("blank line", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\r")]
    [InlineData("\t")]
    [InlineData("\0")]
    [InlineData("\u001b")]
    public void Open_RejectsControlCharacters_AsMalformed(string control)
    {
        var note = SignedNote.Sign(Checkpoint, _ed).Insert(5, control);

        var ex = Reject(Utf8(note), _ed.Verifier);

        Assert.Equal(NoteRejection.Malformed, ex.Reason);
        Assert.Contains("byte offset 5", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0xff })] // never valid
    [InlineData(new byte[] { 0xc0, 0x80 })] // overlong NUL
    [InlineData(new byte[] { 0xed, 0xa0, 0x80 })] // UTF-16 surrogate
    [InlineData(new byte[] { 0xe2, 0x80 })] // truncated em dash
    public void Open_RejectsInvalidUtf8_AsMalformed(byte[] invalid)
    {
        var signed = Utf8(SignedNote.Sign(Checkpoint, _ed));
        byte[] note = [.. signed.AsSpan(0, 5), .. invalid, .. signed.AsSpan(5)];

        var ex = Reject(note, _ed.Verifier);

        Assert.Equal(NoteRejection.Malformed, ex.Reason);
        Assert.Contains("UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RejectsANoteSignedOnlyByUnknownKeys()
    {
        using var stranger = Ed25519NoteKey.Generate("stranger.example/key");

        var ex = Reject(Utf8(SignedNote.Sign(Checkpoint, stranger)), _ed.Verifier);

        Assert.Equal(NoteRejection.NoKnownSignature, ex.Reason);
        Assert.Contains("stranger.example/key+", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_IgnoresASignatureWhoseNameMatchesButKeyIdDiffers()
    {
        using var impostor = Ed25519NoteKey.Generate(Origin);
        Assert.NotEqual(_ed.KeyId, impostor.KeyId);

        var opened = SignedNote.Open(Utf8(SignedNote.Sign(Checkpoint, impostor, _ed)), [_ed.Verifier]);

        Assert.Equal(_ed.KeyId, Assert.Single(opened.Verified).KeyId);
        Assert.Equal(impostor.KeyId, Assert.Single(opened.Unverified).KeyId);
        Assert.Equal(NoteRejection.NoKnownSignature, Reject(Utf8(SignedNote.Sign(Checkpoint, impostor)), _ed.Verifier).Reason);
    }

    [Fact]
    public void Open_IgnoresASignatureWhoseKeyIdMatchesButNameDiffers()
    {
        var line = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];
        var renamed = line.Replace(Origin, "other.example/log", StringComparison.Ordinal);

        var opened = SignedNote.Open(Utf8(Checkpoint + "\n" + renamed + line), [_ed.Verifier]);

        var ignored = Assert.Single(opened.Unverified);
        Assert.Equal(("other.example/log", _ed.KeyId), (ignored.Name, ignored.KeyId));
    }

    [Fact]
    public void Open_RejectsTheNote_WhenAKnownKeyHasAGoodAndABadSignature()
    {
        var good = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];
        var otherText = SignedNote.Sign("another text\n", _ed)[("another text\n".Length + 1)..];

        var ex = Reject(Utf8(Checkpoint + "\n" + good + otherText), _ed.Verifier);

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
        Assert.Contains("signature line 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RejectsASignatureWithNonZeroBase64PaddingBits_AsMalformed()
    {
        // The Go example's last quantum "AM=" carries two padding bits; 'N' sets one.
        var note = TestVectors.PeterText + "\n" + TestVectors.PeterSignatureLine.Replace("AM=", "AN=", StringComparison.Ordinal);

        Assert.Equal(NoteRejection.Malformed, Reject(Utf8(note), VerifierKeys.Parse(TestVectors.PeterVerifierKey)).Reason);
    }

    [Theory]
    [InlineData("\u2014 name\n")] // no signature
    [InlineData("\u2014 name \n")] // empty signature
    [InlineData("\u2014  AAAAAAAA\n")] // empty name
    [InlineData("\u2014 na+me AAAAAAAA\n")] // '+' in name
    [InlineData("\u2014 name AAAA\n")] // key ID without signature bytes
    [InlineData("\u2014 name AAAA AAAA\n")] // space inside the base64
    [InlineData("- name AAAAAAAA\n")] // hyphen, not em dash
    [InlineData("\u2014name AAAAAAAA\n")] // no space after the dash
    public void Open_RejectsMalformedSignatureLines(string line)
    {
        var good = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];

        var ex = Reject(Utf8(Checkpoint + "\n" + good + line), _ed.Verifier);

        Assert.Equal(NoteRejection.Malformed, ex.Reason);
        Assert.Contains("signature line 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_AcceptsTheDefaultLimitOf100Signatures_AndRejects101()
    {
        var keys = Enumerable.Range(0, 100).Select(i => Ed25519NoteKey.Generate($"signer{i}.example")).ToArray();
        try
        {
            var note = SignedNote.Sign(Checkpoint, [.. keys]);
            var opened = SignedNote.Open(Utf8(note), [keys[99].Verifier]);
            Assert.Equal(99, opened.Unverified.Count);

            var ex = Reject(Utf8(note + note[(Checkpoint.Length + 1)..].Split('\n')[0] + "\n"), keys[0].Verifier);
            Assert.Equal(NoteRejection.TooManySignatures, ex.Reason);
            Assert.Contains("101 signature lines", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            Array.ForEach(keys, k => k.Dispose());
        }
    }

    [Fact]
    public void Open_AppliesAConfiguredSignatureLimit()
    {
        var keys = Enumerable.Range(0, 17).Select(i => Ed25519NoteKey.Generate($"signer{i}.example")).ToArray();
        try
        {
            var limits = new NoteLimits { MaxSignatures = 16 };
            var sixteen = Utf8(SignedNote.Sign(Checkpoint, [.. keys[..16]]));
            var seventeen = Utf8(SignedNote.Sign(Checkpoint, [.. keys]));

            Assert.Single(SignedNote.Open(sixteen, [keys[0].Verifier], limits).Verified);
            var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(seventeen, [keys[0].Verifier], limits));
            Assert.Equal(NoteRejection.TooManySignatures, ex.Reason);
        }
        finally
        {
            Array.ForEach(keys, k => k.Dispose());
        }
    }

    [Fact]
    public void Open_RejectsANoteOverTheSizeLimit_BeforeParsingIt()
    {
        var note = Utf8(SignedNote.Sign(Checkpoint, _ed));

        Assert.Single(SignedNote.Open(note, [_ed.Verifier], new NoteLimits { MaxNoteBytes = note.Length }).Verified);
        var ex = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [_ed.Verifier], new NoteLimits { MaxNoteBytes = note.Length - 1 }));
        Assert.Equal(NoteRejection.TooLarge, ex.Reason);

        var huge = new byte[NoteLimits.Default.MaxNoteBytes + 1]; // NULs: rejected for size, not for the control characters
        Assert.Equal(NoteRejection.TooLarge, Reject(huge, _ed.Verifier).Reason);
    }

    [Fact]
    public void Open_RefusesLimitsBelowTheSpecMinimumOf16Signatures()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SignedNote.Open(Utf8(SignedNote.Sign(Checkpoint, _ed)), [_ed.Verifier], new NoteLimits { MaxSignatures = 15 }));
    }

    [Fact]
    public void Open_RejectsAnMlDsaCosignatureOfANoteThatIsNotACheckpoint()
    {
        // An Ed25519 key can sign any text; the cosignature line is copied onto a text that is no checkpoint.
        var cosignatureLine = SignedNote.Sign(Checkpoint, _ml)[(Checkpoint.Length + 1)..];

        var ex = Reject(Utf8("not a checkpoint\n\n" + cosignatureLine), _ml.Verifier);

        Assert.Equal(NoteRejection.BadSignature, ex.Reason);
    }

    [Theory]
    [InlineData("no trailing newline")]
    [InlineData("")]
    [InlineData("tab\there\n")]
    [InlineData("carriage return\r\n")]
    public void Sign_RefusesTextThatCannotBeASignedNote(string text)
    {
        Assert.Throws<ArgumentException>(() => SignedNote.Sign(text, _ed));
    }

    [Fact]
    public void Sign_RefusesTextWithAnUnpairedSurrogate()
    {
        var text = "lone surrogate " + (char)0xd800 + "\n"; // built at run time: attribute strings cannot hold one

        var ex = Assert.Throws<ArgumentException>(() => SignedNote.Sign(text, _ed));

        Assert.Contains("surrogate", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_RefusesNoSignersAndDuplicateSigners()
    {
        Assert.Throws<ArgumentException>(() => SignedNote.Sign(Checkpoint));
        Assert.Throws<ArgumentException>(() => SignedNote.Sign(Checkpoint, _ed, _ed));
    }

    [Fact]
    public void Sign_WithAnMlDsaCosigner_RefusesATextThatIsNotACheckpoint()
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => SignedNote.Sign("hello\n", _ml));

        Assert.Contains("not one", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_WithAnMlDsaCosigner_RefusesAClockBefore1970()
    {
        using var key = MlDsa44CosignerKey.Generate(Origin, new ManualClock(DateTimeOffset.UnixEpoch.AddSeconds(-1)));

        Assert.Throws<InvalidOperationException>(() => key.Sign(Utf8(Checkpoint)));
    }

    [Fact]
    public void Sign_AcceptsNonAsciiText_AndOpenReturnsItUnchanged()
    {
        const string text = "Ognuno sta solo sul cuor della terra\ned \u00e8 subito sera \u2014 \U0001F600\n";

        Assert.Equal(text, SignedNote.Open(Encoding.UTF8.GetBytes(SignedNote.Sign(text, _ed)), [_ed.Verifier]).Text);
    }

    [Fact]
    public void Sign_CanBeCalledConcurrentlyOnOneKey()
    {
        var notes = new string[16];

        Parallel.For(0, notes.Length, i => notes[i] = SignedNote.Sign(Checkpoint, _ed, _ml));

        Assert.All(notes, note => Assert.Equal(2, SignedNote.Open(Utf8(note), [_ed.Verifier, _ml.Verifier]).Verified.Count));
    }

    // Mutation testing (docs/testing.md): what Sign demands of each signer, asserted by the refusal it names.
    [Fact]
    public void Sign_RefusesASignerWithAnInvalidName_OrNoSignature()
    {
        var badName = Assert.Throws<ArgumentException>(() => SignedNote.Sign(Checkpoint, new FixedSigner("bad name", 1, [1])));
        Assert.Contains("signer 'bad name' cannot sign a note", badName.Message, StringComparison.Ordinal);

        foreach (var signature in new byte[]?[] { [], null })
        {
            var empty = Assert.Throws<InvalidOperationException>(() => SignedNote.Sign(Checkpoint, new FixedSigner("name.example", 7, signature)));
            Assert.Equal("signer name.example+00000007 returned an empty signature", empty.Message);
        }
    }

    [Fact]
    public void Sign_WritesTheKeyIdBigEndian_ThenTheSignature_OneLinePerSigner()
    {
        var note = SignedNote.Sign("text\n", new FixedSigner("a.example", 0x01020304, [0xaa]), new FixedSigner("a.example", 0x05060708, [0xbb, 0xcc]));

        Assert.Equal(
            "text\n\n\u2014 a.example " + Convert.ToBase64String([1, 2, 3, 4, 0xaa]) + "\n\u2014 a.example " + Convert.ToBase64String([5, 6, 7, 8, 0xbb, 0xcc]) + "\n",
            note);
    }

    // The shortest signature line is a key ID and one byte; an identical line repeated is recorded once.
    [Fact]
    public void Open_AcceptsAnUnknownOneByteSignature_AndRecordsIdenticalLinesOnce()
    {
        var good = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];
        var oneByte = "\u2014 other.example " + Convert.ToBase64String([0, 0, 0, 7, 0xaa]) + "\n";

        var opened = SignedNote.Open(Utf8(Checkpoint + "\n" + good + oneByte + oneByte + good), [_ed.Verifier]);

        Assert.Equal(_ed.KeyId, Assert.Single(opened.Verified).KeyId);
        var unknown = Assert.Single(opened.Unverified);
        Assert.Equal(("other.example", 7u), (unknown.Name, unknown.KeyId));
    }

    [Fact]
    public void Open_RefusalByUnknownKeys_NamesTheFirstFiveSigners_AndCountsTheRest()
    {
        var signers = Enumerable.Range(0, 7).Select(i => (INoteSigner)new FixedSigner($"s{i}.example", (uint)i, [1])).ToArray();

        var ex = Reject(Utf8(SignedNote.Sign(Checkpoint, signers)), _ed.Verifier);

        Assert.Equal(NoteRejection.NoKnownSignature, ex.Reason);
        Assert.Contains(
            "none of the note's 7 distinct signatures is from a known key (s0.example+00000000, s1.example+00000001, "
            + "s2.example+00000002, s3.example+00000003, s4.example+00000004 and 2 more); "
            + $"known keys are {_ed.Name}+{_ed.KeyId:x8}",
            ex.Message,
            StringComparison.Ordinal);
        var five = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(SignedNote.Sign(Checkpoint, signers[..5])), []));
        Assert.EndsWith("s4.example+00000004); known keys are none", five.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sign_AndOpen_NameTheNullArgument()
    {
        Assert.Equal("text", Assert.Throws<ArgumentNullException>(() => SignedNote.Sign(null!, _ed)).ParamName);
        Assert.Equal("signers", Assert.Throws<ArgumentNullException>(() => SignedNote.Sign(Checkpoint, null!)).ParamName);
        Assert.Equal("signers", Assert.Throws<ArgumentNullException>(() => SignedNote.Sign(Checkpoint, _ed, null!)).ParamName);
        var note = Utf8(SignedNote.Sign(Checkpoint, _ed));
        Assert.Equal("knownKeys", Assert.Throws<ArgumentNullException>(() => SignedNote.Open(note, null!)).ParamName);
        Assert.Equal("knownKeys", Assert.Throws<ArgumentNullException>(() => SignedNote.Open(note, [_ed.Verifier, null!])).ParamName);
    }

    [Fact]
    public void Sign_RefusalsSayWhy()
    {
        Assert.StartsWith("a signed note needs at least one signer", Assert.Throws<ArgumentException>(() => SignedNote.Sign(Checkpoint)).Message, StringComparison.Ordinal);
        Assert.StartsWith("note text must end in a newline", Assert.Throws<ArgumentException>(() => SignedNote.Sign("x", _ed)).Message, StringComparison.Ordinal);
        Assert.StartsWith("note text has the control character U+0009 at byte offset 1; only newline is allowed", Assert.Throws<ArgumentException>(() => SignedNote.Sign("a\tb\n", _ed)).Message, StringComparison.Ordinal);
        Assert.StartsWith($"two signers have the same key {_ed.Name}+{_ed.KeyId:x8}", Assert.Throws<ArgumentException>(() => SignedNote.Sign(Checkpoint, _ed, _ed)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_RefusalsSayWhy()
    {
        var good = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];
        Assert.Contains("the note is 11 bytes, over the limit of 10", Assert.Throws<NoteVerificationException>(() => SignedNote.Open(new byte[11], [_ed.Verifier], new NoteLimits { MaxNoteBytes = 10 })).Message, StringComparison.Ordinal);
        Assert.Contains("the note has no signature lines after the blank line", Reject(Utf8(Checkpoint + "\n"), _ed.Verifier).Message, StringComparison.Ordinal);
        Assert.Contains("the last signature line does not end in a newline", Reject(Utf8(Checkpoint + "\n" + good.TrimEnd('\n')), _ed.Verifier).Message, StringComparison.Ordinal);
        Assert.Contains("signature line 1 has an invalid key name: the key name is empty", Reject(Utf8(Checkpoint + "\n\u2014  AAAAAAAA\n"), _ed.Verifier).Message, StringComparison.Ordinal);
        var ambiguous = Assert.Throws<NoteVerificationException>(() => SignedNote.Open(Utf8(Checkpoint + "\n" + good), [_ed.Verifier, _ed.Verifier]));
        Assert.Equal(NoteRejection.AmbiguousKey, ambiguous.Reason);
        Assert.Contains($"signature line 1 is from {_ed.Name}+{_ed.KeyId:x8}, which matches more than one known key", ambiguous.Message, StringComparison.Ordinal);
    }

    // The shortest text, one newline, makes the blank line the note's first two bytes.
    [Fact]
    public void SignThenOpen_OfTheShortestText_RoundTrips()
    {
        Assert.Equal("\n", SignedNote.Open(Utf8(SignedNote.Sign("\n", _ed)), [_ed.Verifier]).Text);
    }

    // Lines are told apart whole: "nameAAAA AAAAAAAA" and "name AAAAAAAAAAAA" are different lines.
    [Fact]
    public void Open_RecordsTwoLinesWhoseNameAndSignatureOnlySplitDifferently()
    {
        var good = SignedNote.Sign(Checkpoint, _ed)[(Checkpoint.Length + 1)..];

        var opened = SignedNote.Open(Utf8(Checkpoint + "\n" + good + "\u2014 nameAAAA AAAAAAAA\n\u2014 name AAAAAAAAAAAA\n"), [_ed.Verifier]);

        Assert.Equal(["nameAAAA", "name"], opened.Unverified.Select(s => s.Name));
    }

    private sealed class FixedSigner(string name, uint keyId, byte[]? signature) : INoteSigner
    {
        public string Name => name;

        public uint KeyId => keyId;

        public byte[] Sign(ReadOnlySpan<byte> noteText) => signature!;
    }

    private static NoteVerificationException Reject(byte[] note, INoteVerifier verifier) =>
        Assert.Throws<NoteVerificationException>(() => SignedNote.Open(note, [verifier]));
}
