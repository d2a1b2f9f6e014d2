using System.Text;
using Enclave.Intel.Misp;
using Enclave.Intel.Stix;

namespace Enclave.Intel.Tests.Stix;

/// <summary>Inputs found by fuzz/ (harnesses stix-bundle and misp-event) that escaped as unexpected exceptions.</summary>
public sealed class StixFuzzFindingsTests
{
    // The fuzzer's input, cut to its cause: valid UTF-8 bytes whose JSON escapes a lone high surrogate.
    public static TheoryData<string> LoneSurrogates => new()
    {
        """{"id": "b5cf", "object\ud800s": []}""",
        """{"type":"bundle","id":"bundle--1","objects":[{"type":"indicator","id":"indicator--1","name":"\ud800x"}]}""",
        """{"type":"bundle","id":"bundle--1","objects":[],"\udc00":1}""",
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public void Bundle_WithALoneSurrogateEscape_IsRejectedAsMalformed_NotAnInvalidOperation(string json)
    {
        var ex = Assert.Throws<StixRejectedException>(() => new StixBundleReader().Read(Encoding.UTF8.GetBytes(json), "fuzz.json"));
        Assert.Equal(StixRejection.MalformedJson, ex.Reason);
        Assert.Contains("not valid Unicode", ex.Message, StringComparison.Ordinal);
        Assert.Contains("fuzz.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MispEvent_WithALoneSurrogateEscape_IsRejectedAsMalformed()
    {
        var json = """{"Event":{"uuid":"57c4445b-c548-4654-af0b-4be3950d210f","Attribute":[{"type":"domain","value":"ex\ud800ample.com","to_ids":true}]}}""";
        var ex = Assert.Throws<StixRejectedException>(() => new MispFeedReader().ReadEvent(Encoding.UTF8.GetBytes(json), "event.json"));
        Assert.Equal(StixRejection.MalformedJson, ex.Reason);
    }

    [Fact]
    public void Bundle_WithAValidSurrogatePair_IsStillRead()
    {
        var json = StixBundleReaderTests.Bundle(StixBundleReaderTests.Indicator("1", "[domain-name:value = 'example.com']", extra: ",\"name\":\"\\ud83d\\ude00\""));
        var bundle = new StixBundleReader().Read(Encoding.UTF8.GetBytes(json));
        Assert.Equal("\U0001F600", Assert.Single(bundle.Indicators).Name);
    }
}
