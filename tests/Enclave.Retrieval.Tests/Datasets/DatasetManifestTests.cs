using System.Text;
using Enclave.Retrieval.Datasets;
using Enclave.Retrieval.Extraction;

namespace Enclave.Retrieval.Tests.Datasets;

/// <summary>The <c>manifest.json</c> of a dataset bundle: what it says, and every malformed manifest refused with its reason.</summary>
public sealed class DatasetManifestTests
{
    private const string Good = """{"vector_store_name":"field manuals","labels":{"handbook.md":"UNCLASSIFIED","notes/visits.txt":"CUI"}}""";

    private static DocumentRejectedException Refused(byte[] bytes) => Assert.Throws<DocumentRejectedException>(() => DatasetManifest.Parse(bytes));

    private static DocumentRejectedException Refused(string text) => Refused(Encoding.UTF8.GetBytes(text));

    [Fact]
    public void Parse_ReadsTheStoreAndTheLabels()
    {
        var manifest = DatasetManifest.Parse(Encoding.UTF8.GetBytes(Good));

        Assert.Equal("field manuals", manifest.VectorStoreName);
        Assert.Null(manifest.VectorStoreId);
        Assert.Equal("CUI", manifest.Labels["notes/visits.txt"]);
        Assert.Equal(2, manifest.Labels.Count);
        Assert.Equal("vs_abc123", DatasetManifest.Parse("""{"vector_store_id":"vs_abc123"}"""u8).VectorStoreId);
        Assert.Empty(DatasetManifest.Parse("{}"u8).Labels);
    }

    [Fact]
    public void Parse_RefusesDuplicateMembers_AtTheTopAndInLabels()
    {
        Assert.Equal(DocumentRejection.Malformed, Refused("""{"vector_store_name":"a","vector_store_name":"b"}""").Reason);
        Assert.Equal(DocumentRejection.Malformed, Refused("""{"labels":{"a.md":"UNCLASSIFIED","a.md":"SECRET"}}""").Reason);
    }

    [Fact]
    public void Parse_RefusesInvalidUtf8_AndLoneSurrogates()
    {
        var bytes = Encoding.UTF8.GetBytes(Good);
        bytes[Good.IndexOf("field", StringComparison.Ordinal)] = 0xC3; // a lead byte followed by ASCII
        Assert.Equal(DocumentRejection.InvalidUtf8, Refused(bytes).Reason);
        Assert.Equal(DocumentRejection.InvalidUtf8, Refused("""{"vector_store_name":"\ud800"}""").Reason);
    }

    [Fact]
    public void Parse_RefusesTruncatedAndTamperedManifests()
    {
        for (var length = 0; length < Good.Length; length += 7)
        {
            Assert.Equal(DocumentRejection.Malformed, Refused(Good[..length]).Reason);
        }

        Assert.Contains("unknown member 'vector_store'", Refused("""{"vector_store":"x"}""").Message, StringComparison.Ordinal);
        Assert.Contains("not both", Refused("""{"vector_store_id":"vs_a","vector_store_name":"b"}""").Message, StringComparison.Ordinal);
        Assert.Contains("not a vector store ID", Refused("""{"vector_store_id":"../etc"}""").Message, StringComparison.Ordinal);
        Assert.Contains("labels must be an object", Refused("""{"labels":["a.md"]}""").Message, StringComparison.Ordinal);
        Assert.Contains("must be a string", Refused("""{"labels":{"a.md":3}}""").Message, StringComparison.Ordinal);
        Assert.Contains("must be a JSON object", Refused("[]").Message, StringComparison.Ordinal);
        // Every problem is named, not only the first.
        var several = Refused("""{"x":1,"labels":{"a.md":false},"vector_store_name":""}""").Message;
        Assert.Contains("unknown member 'x'", several, StringComparison.Ordinal);
        Assert.Contains("labels[\"a.md\"] must be a string", several, StringComparison.Ordinal);
        Assert.Contains("vector_store_name must be 1 to 256", several, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RefusesAnOversizedManifest_BeforeReadingIt()
    {
        var big = Encoding.UTF8.GetBytes("{\"vector_store_name\":\"" + new string('a', DatasetManifest.MaxBytes) + "\"}");

        Assert.Equal(DocumentRejection.TooLarge, Refused(big).Reason);
    }
}
