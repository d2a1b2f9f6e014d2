using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using FsCheck;
using FsCheck.Xunit;

namespace Enclave.Core.Tests;

public sealed class AuditDetailsWriterTests
{
    private static readonly DateTimeOffset Time = new(2026, 12, 7, 7, 0, 0, 5, TimeSpan.Zero);
    private static readonly AuditEventType Type = new("test.written", "a", "b", "big", "flag", "nested", "r", "text", "ü");

    private static byte[] Written(AuditDetailsWriting<int> write) =>
        AuditEvent.Create(Type, Time, "system", "s", 0, write).ToCanonicalJson();

    private static byte[] Reference(JsonObject details) =>
        AuditEvent.Create(Type, Time, "system", "s", details).ToCanonicalJson();

    [Fact]
    public void WrittenMembers_AreByteForByteTheCanonicalFormOfTheSameJsonObject()
    {
        var nested = new JsonObject { ["z"] = 1, ["a"] = new JsonArray(1.5, "é\n", null), ["m"] = new JsonObject { ["y"] = true } };
        var written = Written((ref d, _) =>
        {
            d.Number("a", 42);
            d.Number("b", -0.001);
            d.Number("big", 1L << 60);
            d.Boolean("flag", false);
            d.Node("nested", nested.DeepClone());
            d.Number("r", 1234.567);
            d.String("text", "quote \" backslash \\ control \u0001 tab \t emoji 😀 é");
            d.String("ü", "non-ASCII name sorts after every ASCII one");
        });
        var reference = Reference(new JsonObject
        {
            ["text"] = "quote \" backslash \\ control \u0001 tab \t emoji 😀 é",
            ["ü"] = "non-ASCII name sorts after every ASCII one",
            ["nested"] = nested.DeepClone(),
            ["r"] = 1234.567,
            ["flag"] = false,
            ["big"] = 1L << 60,
            ["b"] = -0.001,
            ["a"] = 42,
        });

        Assert.Equal(Encoding.UTF8.GetString(reference), Encoding.UTF8.GetString(written));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    [InlineData(9_007_199_254_740_992L)] // 2^53
    [InlineData(9_007_199_254_740_993L)] // 2^53 + 1: no double holds it; written as the double a JsonObject's long becomes
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Integers_MatchTheJsonObjectForm(long value) =>
        Assert.Equal(Reference(new JsonObject { ["a"] = value }), Written((ref d, _) => d.Number("a", value)));

    [Fact]
    public void AnEmptyWriter_WritesAnEmptyObject() =>
        Assert.Equal(Reference([]), Written((ref d, _) => { }));

    [Fact]
    public void MembersOutOfOrder_AreRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Written((ref d, _) =>
        {
            d.String("b", "x");
            d.String("a", "y");
        }));

        Assert.Contains("a written after b", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMemberWrittenTwice_IsRefused() =>
        Assert.Throws<InvalidOperationException>(() => Written((ref d, _) =>
        {
            d.String("a", "x");
            d.String("a", "y");
        }));

    [Fact]
    public void AMemberTheTypeDoesNotDeclare_IsRefused()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Written((ref d, _) => d.String("undeclared", "x")));

        Assert.Contains("does not declare the field undeclared", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALoneSurrogate_IsAFormatError_AsForAJsonObject()
    {
        Assert.Throws<EnclaveFormatException>(() => Written((ref d, _) => d.String("text", "\ud800x")));
        Assert.Throws<EnclaveFormatException>(() => Reference(new JsonObject { ["text"] = "\ud800x" }));
    }

    [Fact]
    public void ANonFiniteNumber_IsAFormatError() =>
        Assert.Throws<EnclaveFormatException>(() => Written((ref d, _) => d.Number("r", double.NaN)));

    [Fact]
    public void AFailedWrite_LeavesTheNextEventWhole()
    {
        // The scratch buffer is per thread and reused: a write that threw half-way must not leak into the next event.
        Assert.Throws<InvalidOperationException>(() => Written((ref d, _) =>
        {
            d.String("text", new string('x', 5000));
            d.String("a", "out of order");
        }));

        Assert.Equal(Reference(new JsonObject { ["a"] = "fine" }), Written((ref d, _) => d.String("a", "fine")));
    }

    [Property(MaxTest = 300)]
    public bool AnyMembers_EqualTheJsonObjectForm(NonNull<string> text, long a, NormalFloat r, bool flag, bool withText, bool withA)
    {
        var reference = new JsonObject { ["flag"] = flag, ["r"] = r.Get };
        if (withText)
        {
            reference["text"] = text.Get;
        }

        if (withA)
        {
            reference["a"] = a;
        }

        byte[] expected;
        try
        {
            expected = Reference(reference);
        }
        catch (EnclaveFormatException)
        {
            // An unpaired surrogate in the generated text: refused both ways.
            return Assert.Throws<EnclaveFormatException>(() => Written((ref d, _) => d.String("text", text.Get))) is not null;
        }

        var written = Written((ref d, _) =>
        {
            if (withA)
            {
                d.Number("a", a);
            }

            d.Boolean("flag", flag);
            d.Number("r", r.Get);
            if (withText)
            {
                d.String("text", text.Get);
            }
        });
        return expected.AsSpan().SequenceEqual(written);
    }
}
