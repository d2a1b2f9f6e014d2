using System.IO.Compression;
using System.Text;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Osv;

namespace Enclave.Intel.Tests.Vulnerabilities;

public sealed class OsvParserTests
{
    private static string RealRecordPath => SharedTestData.Intel("osv/github-advisory-database/GHSA-cchq-frgv-rjh5.json");

    private static VulnerabilityDataException Refused(byte[] bytes, OsvParserOptions? options = null) =>
        Assert.Throws<VulnerabilityDataException>(() => OsvParser.Parse(bytes, "input.json", options));

    [Fact]
    public void Parse_ReadsRangesEventsAliasesAndSeverity()
    {
        var record = Assert.Single(OsvParser.Parse(File.ReadAllBytes(RealRecordPath), "GHSA-cchq-frgv-rjh5.json"));
        Assert.Equal("GHSA-cchq-frgv-rjh5", record.Id);
        Assert.Contains("CVE-2023-37466", record.Aliases);
        var range = Assert.Single(Assert.Single(record.Affected).Ranges);
        Assert.Equal(OsvRangeType.Ecosystem, range.Type);
        Assert.Equal([new OsvEvent(OsvEventKind.Introduced, "0"), new OsvEvent(OsvEventKind.LastAffected, "3.9.19")], range.Events);
        Assert.StartsWith("CVSS:3.1/", Assert.Single(record.Severity).Score, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RefusesTruncatedRecord()
    {
        var bytes = File.ReadAllBytes(RealRecordPath);
        Assert.Equal(VulnerabilityDataRejection.InvalidJson, Refused(bytes[..(bytes.Length / 2)]).Reason);
    }

    [Fact]
    public void Parse_RefusesAFlippedStructuralByte()
    {
        var bytes = File.ReadAllBytes(RealRecordPath);
        var colon = Array.IndexOf(bytes, (byte)':');
        bytes[colon] = (byte)';';
        var e = Refused(bytes);
        Assert.Equal(VulnerabilityDataRejection.InvalidJson, e.Reason);
        Assert.Contains("line", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadArchive_ReportsAnOversizedEntry_AndAppliesTheRest()
    {
        var good = File.ReadAllBytes(RealRecordPath);
        var database = new OsvDatabase();
        OsvLoader.LoadArchive(database, Zip(("good.json", good), ("huge.json", new byte[5_000])), "x.zip", new OsvParserOptions { MaxRecordBytes = 4_096 });
        Assert.Single(database.Records);
        Assert.Equal(VulnerabilityDataRejection.TooLarge, Assert.Single(database.Problems).Reason);
    }

    [Fact]
    public void Parse_RefusesDuplicateKeys()
    {
        var e = Refused(Encoding.UTF8.GetBytes("""{"id":"A","id":"B","modified":"2024-01-01T00:00:00Z"}"""));
        Assert.Equal(VulnerabilityDataRejection.DuplicateKey, e.Reason);
        Assert.Contains("input.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RefusesInvalidUtf8()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"id":"A","modified":"2024-01-01T00:00:00Z","summary":"xx"}""");
        var at = Array.IndexOf(bytes, (byte)'x');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        Assert.Equal(VulnerabilityDataRejection.InvalidUtf8, Refused(bytes).Reason);
    }

    [Fact]
    public void Parse_RefusesOversizedRecord()
    {
        var bytes = File.ReadAllBytes(RealRecordPath);
        var e = Refused(bytes, new OsvParserOptions { MaxRecordBytes = 100 });
        Assert.Equal(VulnerabilityDataRejection.TooLarge, e.Reason);
    }

    [Fact]
    public void Parse_RefusesDeepNesting()
    {
        var deep = new string('[', 200) + new string(']', 200);
        var bytes = Encoding.UTF8.GetBytes($$"""{"id":"A","modified":"2024-01-01T00:00:00Z","database_specific":{{deep}}}""");
        Assert.Equal(VulnerabilityDataRejection.TooDeep, Refused(bytes).Reason);
    }

    [Fact]
    public void Parse_RefusesTooManyEvents()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"p"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.0"},{"fixed":"2.0.0"}]}]}]}""");
        Assert.Equal(VulnerabilityDataRejection.TooManyItems, Refused(bytes, new OsvParserOptions { MaxEventsPerRange = 2 }).Reason);
    }

    [Theory]
    [InlineData("""{"modified":"2024-01-01T00:00:00Z"}""", "\"id\" is missing")]
    [InlineData("""{"id":"A"}""", "\"modified\" is missing")]
    [InlineData("""{"id":"A","modified":"yesterday"}""", "RFC 3339")]
    [InlineData("""{"id":7,"modified":"2024-01-01T00:00:00Z"}""", "must be a string")]
    [InlineData("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":{}}""", "must be an array")]
    [InlineData("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER"}]}]}""", "\"events\" is missing")]
    [InlineData("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"introduced":"0","fixed":"1.0.0"}]}]}]}""", "exactly one")]
    [InlineData("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{"ranges":[{"type":"SEMVER","events":[{"patched":"1.0.0"}]}]}]}""", "unknown event")]
    [InlineData("""{"id":"A","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"name":"p"}}]}""", "\"ecosystem\" is missing")]
    public void Parse_RefusesMalformedRecords_NamingWhatAndWhere(string json, string expected)
    {
        var e = Refused(Encoding.UTF8.GetBytes(json));
        Assert.Equal(VulnerabilityDataRejection.InvalidField, e.Reason);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    private static MemoryStream Zip(params (string Name, byte[] Content)[] entries)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, content) in entries)
            {
                using var entry = zip.CreateEntry(name).Open();
                entry.Write(content);
            }
        }

        stream.Position = 0;
        return stream;
    }

    [Fact]
    public void LoadArchive_ReportsAndSkipsABadRecord_AndAppliesTheRest()
    {
        var good1 = File.ReadAllBytes(RealRecordPath);
        var good2 = File.ReadAllBytes(SharedTestData.Intel("osv/golang-vulndb/GO-2022-0278.json"));
        var bad = good2[..100];
        var database = new OsvDatabase();
        OsvLoader.LoadArchive(database, Zip(("GHSA-cchq-frgv-rjh5.json", good1), ("GO-2022-0278.json", good2), ("broken.json", bad)), "npm.zip");
        Assert.Equal(["GHSA-cchq-frgv-rjh5", "GO-2022-0278"], database.Records.Keys.Order(StringComparer.Ordinal));
        var problem = Assert.Single(database.Problems);
        Assert.Equal("npm.zip!broken.json", problem.Source);
        Assert.Equal(VulnerabilityDataRejection.InvalidJson, problem.Reason);
    }

    [Theory]
    [InlineData("../evil.json")]
    [InlineData("/etc/evil.json")]
    [InlineData("a/../../evil.json")]
    [InlineData("C:/evil.json")]
    public void LoadArchive_RefusesPathTraversal_AndLoadsNothing(string name)
    {
        var database = new OsvDatabase();
        var e = Assert.Throws<VulnerabilityDataException>(() =>
            OsvLoader.LoadArchive(database, Zip(("GHSA-cchq-frgv-rjh5.json", File.ReadAllBytes(RealRecordPath)), (name, File.ReadAllBytes(RealRecordPath))), "evil.zip"));
        Assert.Equal(VulnerabilityDataRejection.PathTraversal, e.Reason);
        Assert.Empty(database.Records);
    }

    [Fact]
    public void LoadArchive_RefusesTooManyEntries_AndLoadsNothing()
    {
        var record = File.ReadAllBytes(RealRecordPath);
        var database = new OsvDatabase();
        var e = Assert.Throws<VulnerabilityDataException>(() =>
            OsvLoader.LoadArchive(database, Zip(("a.json", record), ("b.json", record), ("c.json", record)), "big.zip", new OsvParserOptions { MaxArchiveEntries = 2 }));
        Assert.Equal(VulnerabilityDataRejection.TooManyItems, e.Reason);
        Assert.Empty(database.Records);
    }

    [Fact]
    public void LoadArchive_RefusesAnArchiveThatExpandsBeyondTheBound()
    {
        var database = new OsvDatabase();
        var e = Assert.Throws<VulnerabilityDataException>(() =>
            OsvLoader.LoadArchive(database, Zip(("a.json", new byte[10_000])), "bomb.zip", new OsvParserOptions { MaxArchiveBytes = 1_000 }));
        Assert.Equal(VulnerabilityDataRejection.TooLarge, e.Reason);
    }

    [Fact]
    public void LoadArchive_RefusesBytesThatAreNotAZip()
    {
        var database = new OsvDatabase();
        var bytes = Zip(("a.json", File.ReadAllBytes(RealRecordPath))).ToArray();
        var e = Assert.Throws<VulnerabilityDataException>(() => OsvLoader.LoadArchive(database, new MemoryStream(bytes[..(bytes.Length - 30)]), "cut.zip"));
        Assert.Equal(VulnerabilityDataRejection.InvalidArchive, e.Reason);
        Assert.Empty(database.Records);
    }
}
