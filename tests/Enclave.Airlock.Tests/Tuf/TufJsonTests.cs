using System.Text;
using Enclave.Airlock.Tuf;
using FsCheck;
using FsCheck.Xunit;

namespace Enclave.Airlock.Tests.Tuf;

public sealed class TufJsonTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(TufJson.Canonicalize(TufJson.Parse(Encoding.UTF8.GetBytes(json), 32)));

    [Fact]
    public void Canonicalize_SortsKeys_DropsWhitespace_EscapesOnlyQuoteAndBackslash()
    {
        Assert.Equal("{\"a\":[true,null,\"x\\\"\\\\y\"],\"b\":-1}", Canonical("{ \"b\" : -1,\n \"a\": [true, null, \"x\\\"\\\\y\"] }"));
    }

    [Fact]
    public void Canonicalize_WritesControlCharactersAndNonAsciiRaw_AsSecuresystemslibDoes()
    {
        Assert.Equal("[\"a\nb\",\"é\"]", Canonical("[\"a\\nb\", \"\\u00e9\"]"));
    }

    [Fact]
    public void Canonicalize_OrdersKeysByCodePoint_NotUtf16Unit()
    {
        // U+E000 sorts before U+1F600 by code point, though its UTF-16 unit (0xE000) is above the surrogate 0xD83D.
        var json = "{\"\\ud83d\\ude00\":1,\"\\ue000\":2}";
        Assert.Equal("{\"\ue000\":2,\"\U0001F600\":1}", Canonical(json));
    }

    [Theory]
    [InlineData("{\"a\":1.5}")]
    [InlineData("{\"a\":1e3}")]
    public void Parse_RejectsNonIntegers_AsNonCanonical(string json)
    {
        var e = Assert.Throws<AirlockRejectedException>(() => TufJson.Parse(Encoding.UTF8.GetBytes(json), 32));
        Assert.Equal(AirlockRejection.NonCanonical, e.Reason);
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"a\":1")]
    [InlineData("{\"a\":1} {}")]
    [InlineData("{\"a\":1,}")]
    [InlineData("{/*c*/\"a\":1}")]
    [InlineData("")]
    public void Parse_RejectsDuplicateKeysTruncationTrailingContentAndComments(string json)
    {
        var e = Assert.Throws<AirlockRejectedException>(() => TufJson.Parse(Encoding.UTF8.GetBytes(json), 32));
        Assert.Equal(AirlockRejection.Malformed, e.Reason);
    }

    [Fact]
    public void Parse_RejectsNestingBeyondTheBound()
    {
        var json = new string('[', 40) + new string(']', 40);
        var e = Assert.Throws<AirlockRejectedException>(() => TufJson.Parse(Encoding.UTF8.GetBytes(json), 32));
        Assert.Equal(AirlockRejection.Malformed, e.Reason);
    }

    [Property]
    public bool Canonicalize_OfParsedJson_EqualsCanonicalizeOfTheValue(NonNull<string>[] keys, int[] values)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < keys.Length; i++)
        {
            map[keys[i].Get] = i < values.Length ? (long)values[i] : new List<object?> { keys[i].Get, null, true };
        }

        byte[] once;
        try
        {
            once = TufJson.Canonicalize(map);
        }
        catch (AirlockRejectedException e) when (e.Reason == AirlockRejection.NonCanonical)
        {
            return true; // unpaired surrogates have no UTF-8 form
        }

        var twice = TufJson.Canonicalize(TufJson.Parse(TestJson.Serialize(map), 32));
        return once.AsSpan().SequenceEqual(twice);
    }
}
