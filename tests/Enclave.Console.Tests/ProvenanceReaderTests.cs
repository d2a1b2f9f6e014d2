using System.Text;
using System.Text.Json.Nodes;
using Enclave.Airlock.Import;
using Enclave.Core;
using Enclave.OperatorConsole.Imports;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The import page's reading of a provenance attestation, an untrusted document: verified only when it is the signed
/// one, an in-toto Statement of SLSA provenance v1 and every subject is a content file; tampered, truncated,
/// duplicate-member, invalid UTF-8 and oversized documents are "not verified" with the reason, never an exception.
/// </summary>
public sealed class ProvenanceReaderTests
{
    private static readonly byte[] Content = Encoding.UTF8.GetBytes("the model's weights");
    private static readonly Sha256Digest ContentDigest = Sha256Digest.Compute(Content);

    private static readonly ImportedTarget ContentTarget = new()
    {
        Path = "model/m/1.0/model.onnx",
        RelativePath = "model.onnx",
        Type = "content",
        Sha256 = ContentDigest,
        Length = Content.Length,
    };

    [Fact]
    public void Statement_OfTheSignedBytes_WithSubjectsThatAreContentFiles_IsVerified_WithBuilderMaterialsAndSubjects()
    {
        var bytes = Statement(ContentDigest.ToHex());
        var evidence = Read(bytes);
        Assert.True(evidence.Verified, string.Join("; ", evidence.Problems));
        Assert.Empty(evidence.Problems);
        Assert.Equal("https://builder.example/7", evidence.Builder);
        Assert.Equal("https://build.example/v1", evidence.BuildType);
        Assert.Equal("run-1", evidence.InvocationId);
        var subject = Assert.Single(evidence.Subjects);
        Assert.Equal("model.onnx", subject.File);
        var material = Assert.Single(evidence.Materials);
        Assert.Equal("git+https://git.example/m", material.Uri);
        Assert.Equal("sha1:0123456789abcdef0123456789abcdef01234567", material.Digest);
    }

    [Fact]
    public void Subject_ThatIsNoContentFile_IsNotVerified_AndNamed()
    {
        var evidence = Read(Statement(new string('0', 64)));
        Assert.False(evidence.Verified);
        Assert.Contains(evidence.Problems, p => p.Contains("is not a content file of this artifact", StringComparison.Ordinal));
        Assert.Null(Assert.Single(evidence.Subjects).File);
    }

    [Fact]
    public void TamperedBytes_NotThoseTheMetadataLists_AreNotVerified()
    {
        var signed = Statement(ContentDigest.ToHex());
        var tampered = Statement(ContentDigest.ToHex(), builder: "https://builder.example/8");
        var evidence = ProvenanceReader.Read(tampered, Target(signed), [ContentTarget], 1 << 20);
        Assert.False(evidence.Verified);
        Assert.Contains(evidence.Problems, p => p.Contains("SHA-256 differs", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("duplicate")]
    [InlineData("utf8")]
    [InlineData("array")]
    [InlineData("wrong-type")]
    public void Malformed_IsNotVerified_WithTheReason_NeverAnException(string how)
    {
        var good = Statement(ContentDigest.ToHex());
        var text = Encoding.UTF8.GetString(good);
        var bytes = how switch
        {
            "truncated" => good[..(good.Length / 2)],
            "duplicate" => Encoding.UTF8.GetBytes(text.Replace("{\"_type\"", "{\"_type\":\"x\",\"_type\"", StringComparison.Ordinal)),
            "utf8" => [.. Encoding.UTF8.GetBytes(text[..^1] + ",\"x\":\""), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"}")],
            "array" => Encoding.UTF8.GetBytes("[" + text + "]"),
            _ => Encoding.UTF8.GetBytes(text.Replace("https://slsa.dev/provenance/v1", "https://slsa.dev/provenance/v0.2", StringComparison.Ordinal)),
        };
        var evidence = Read(bytes);
        Assert.False(evidence.Verified);
        Assert.NotEmpty(evidence.Problems);
        if (how is "truncated" or "duplicate" or "utf8")
        {
            Assert.Contains(evidence.Problems, p => p.Contains("not valid JSON", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Oversized_IsNotRead()
    {
        var bytes = Statement(ContentDigest.ToHex());
        var evidence = ProvenanceReader.Read(bytes, Target(bytes), [ContentTarget], bytes.Length - 1);
        Assert.False(evidence.Verified);
        Assert.Contains(evidence.Problems, p => p.Contains("the limit is", StringComparison.Ordinal));
        Assert.Empty(evidence.Subjects);
    }

    [Fact]
    public void ManySubjects_AndLongStrings_AreBoundedInWhatIsShown()
    {
        var subjects = new JsonArray([.. Enumerable.Range(0, ProvenanceReader.MaxItems + 50).Select(i => (JsonNode)new JsonObject { ["name"] = new string('n', 2000), ["digest"] = new JsonObject { ["sha256"] = ContentDigest.ToHex() } })]);
        var statement = JsonNode.Parse(Encoding.UTF8.GetString(Statement(ContentDigest.ToHex())))!.AsObject();
        statement["subject"] = subjects;
        var bytes = Encoding.UTF8.GetBytes(statement.ToJsonString());
        var evidence = Read(bytes);
        Assert.True(evidence.Verified, string.Join("; ", evidence.Problems));
        Assert.Equal(ProvenanceReader.MaxItems + 50, evidence.SubjectCount);
        Assert.Equal(ProvenanceReader.MaxItems, evidence.Subjects.Count);
        Assert.All(evidence.Subjects, s => Assert.Equal(ProvenanceReader.MaxText + 1, s.Name.Length));
    }

    private static ProvenanceEvidence Read(byte[] bytes) => ProvenanceReader.Read(bytes, Target(bytes), [ContentTarget], 1 << 20);

    private static ImportedTarget Target(byte[] signed) => new()
    {
        Path = "model/m/1.0/.attestations/provenance.intoto.json",
        RelativePath = ".attestations/provenance.intoto.json",
        Type = "provenance",
        Sha256 = Sha256Digest.Compute(signed),
        Length = signed.Length,
    };

    private static byte[] Statement(string subjectDigest, string builder = "https://builder.example/7") => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["_type"] = "https://in-toto.io/Statement/v1",
        ["subject"] = new JsonArray(new JsonObject { ["name"] = "model.onnx", ["digest"] = new JsonObject { ["sha256"] = subjectDigest } }),
        ["predicateType"] = "https://slsa.dev/provenance/v1",
        ["predicate"] = new JsonObject
        {
            ["buildDefinition"] = new JsonObject
            {
                ["buildType"] = "https://build.example/v1",
                ["externalParameters"] = new JsonObject(),
                ["resolvedDependencies"] = new JsonArray(new JsonObject { ["uri"] = "git+https://git.example/m", ["digest"] = new JsonObject { ["sha1"] = "0123456789abcdef0123456789abcdef01234567" } }),
            },
            ["runDetails"] = new JsonObject
            {
                ["builder"] = new JsonObject { ["id"] = builder },
                ["metadata"] = new JsonObject { ["invocationId"] = "run-1" },
            },
        },
    }.ToJsonString());
}
