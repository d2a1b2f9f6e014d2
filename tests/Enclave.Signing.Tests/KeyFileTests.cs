using Enclave.Core;
using Enclave.Signing.Notes;
using static Enclave.Signing.Tests.NoteBytes;

namespace Enclave.Signing.Tests;

public sealed class KeyFileTests
{
    private const string Checkpoint = "example.com/log\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    private static readonly ManualClock Clock = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    [Fact]
    public void Ed25519PrivateKey_RoundTrips_AndSignsForTheOriginalVerifier()
    {
        using var original = Ed25519NoteKey.Generate("example.com/log");
        var text = original.FormatPrivateKey();

        using var parsed = Ed25519NoteKey.ParsePrivateKey(text);

        Assert.StartsWith("PRIVATE+KEY+example.com/log+", text, StringComparison.Ordinal);
        Assert.Equal((original.Name, original.KeyId, original.VerifierKey), (parsed.Name, parsed.KeyId, parsed.VerifierKey));
        Assert.Equal(text, parsed.FormatPrivateKey());
        Assert.Single(SignedNote.Open(Utf8(SignedNote.Sign("hello\n", parsed)), [VerifierKeys.Parse(original.VerifierKey)]).Verified);
    }

    [Fact]
    public void MlDsa44PrivateKey_RoundTrips_AndCosignsForTheOriginalVerifier()
    {
        using var original = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        var text = original.FormatPrivateKey();

        using var parsed = MlDsa44CosignerKey.ParsePrivateKey(text, Clock);

        Assert.StartsWith("PRIVATE+KEY+example.com/log+", text, StringComparison.Ordinal);
        Assert.Equal(1 + 32, Convert.FromBase64String(text.Split('+', 5)[4]).Length);
        Assert.Equal((original.Name, original.KeyId, original.VerifierKey), (parsed.Name, parsed.KeyId, parsed.VerifierKey));
        Assert.Single(SignedNote.Open(Utf8(SignedNote.Sign(Checkpoint, parsed)), [VerifierKeys.Parse(original.VerifierKey)]).Verified);
    }

    [Fact]
    public void Generate_MakesADifferentKeyEachTime()
    {
        using var a = Ed25519NoteKey.Generate("example.com/log");
        using var b = Ed25519NoteKey.Generate("example.com/log");
        using var c = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        using var d = MlDsa44CosignerKey.Generate("example.com/log", Clock);

        Assert.NotEqual(a.VerifierKey, b.VerifierKey);
        Assert.NotEqual(c.VerifierKey, d.VerifierKey);
    }

    [Fact]
    public void ParsePrivateKey_OfTheOtherKeyType_SaysWhichTypeItIs()
    {
        using var ed = Ed25519NoteKey.Generate("example.com/log");
        using var ml = MlDsa44CosignerKey.Generate("example.com/log", Clock);

        var asMl = Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(ed.FormatPrivateKey(), Clock));
        var asEd = Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(ml.FormatPrivateKey()));

        Assert.Contains("Ed25519NoteKey", asMl.Message, StringComparison.Ordinal);
        Assert.Contains("MlDsa44CosignerKey", asEd.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsePrivateKey_WithAWrongKeyId_IsRejected_WithoutQuotingTheSecret()
    {
        using var key = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        var text = key.FormatPrivateKey();
        var secret = text.Split('+', 5)[4];
        var wrongId = text.Replace($"+{key.KeyId:x8}+", $"+{key.KeyId ^ 1:x8}+", StringComparison.Ordinal);

        var ex = Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(wrongId, Clock));

        Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com/log+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")] // a vkey-shaped text
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n")] // untrimmed file
    [InlineData("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA==")] // 31-byte seed
    public void ParsePrivateKey_RejectsMalformedText(string text)
    {
        Assert.Throws<EnclaveFormatException>(() => Ed25519NoteKey.ParsePrivateKey(text));
        Assert.Throws<EnclaveFormatException>(() => MlDsa44CosignerKey.ParsePrivateKey(text, Clock));
    }

    [Fact]
    public void Dispose_WipesTheKey_SoItNoLongerSignsOrExports_ButItsVerifierStillWorks()
    {
        var ed = Ed25519NoteKey.Generate("example.com/log");
        var ml = MlDsa44CosignerKey.Generate("example.com/log", Clock);
        var note = Utf8(SignedNote.Sign(Checkpoint, ed, ml));

        ed.Dispose();
        ml.Dispose();

        Assert.Throws<ObjectDisposedException>(() => ed.Sign(Utf8(Checkpoint)));
        Assert.Throws<ObjectDisposedException>(() => ml.Sign(Utf8(Checkpoint)));
        Assert.Throws<ObjectDisposedException>(ed.FormatPrivateKey);
        Assert.Throws<ObjectDisposedException>(ml.FormatPrivateKey);
        Assert.Equal(2, SignedNote.Open(note, [ed.Verifier, ml.Verifier]).Verified.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a+b")]
    [InlineData("a b")]
    [InlineData("a\nb")]
    public void Generate_RefusesInvalidKeyNames(string name)
    {
        Assert.Throws<ArgumentException>(() => Ed25519NoteKey.Generate(name));
        Assert.Throws<ArgumentException>(() => MlDsa44CosignerKey.Generate(name, Clock));
    }

    [Fact]
    public void GenerateMlDsa44_RefusesANameLongerThan255Bytes()
    {
        Assert.Throws<ArgumentException>(() => MlDsa44CosignerKey.Generate(new string('\u00e9', 128), Clock)); // 256 bytes
    }
}
