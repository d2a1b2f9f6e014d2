using System.Text.Json;

namespace Enclave.Cli.Tests;

/// <summary><c>enclave intel test</c> on the real public feeds in ../shared/testdata/intel.</summary>
public sealed class IntelCliTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "enclave-intel-cli-" + Guid.NewGuid().ToString("N"));

    public IntelCliTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Shared(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata", "intel", relative);
            if (File.Exists(candidate) || Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"shared/testdata/intel/{relative} not found above {AppContext.BaseDirectory}");
    }

    private static Dictionary<string, string[]> Results(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("results").EnumerateArray().ToDictionary(
            r => r.GetProperty("observable").GetString()!,
            r => r.GetProperty("matches").EnumerateArray().Select(m => m.GetString()!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task IntelTest_Observables_PrintMatchingIndicatorIds_FromStixAndMisp()
    {
        var result = await CliRunner.RunAsync(
            "intel", "test", "--stix", Shared("stix/cti-stix2-json-schemas/poisonivy.json"), "--stix", Shared("stix/cti-stix2-json-schemas/apt1.json"),
            "--misp", Shared("misp"), "--json",
            "ipv4-addr:value=60.10.1.121", "ipv4-addr:value=223.167.9.9", "domain-name:value=JS001.3322.org",
            "file:hashes.'SHA-256'=B3C4AE251F8094FA15B510051835C657EAEF2A6CEA46075D3AEC964B14A99F68", "file:hashes.md5=002325a0a67fded0381b5648d7fe9b8e",
            "url:value=http://example.com/");
        Assert.Equal(0, result.ExitCode);
        var results = Results(result.Out);
        Assert.Equal(["indicator--7fd865ed-93e9-481f-953b-82ab386190ae", "indicator--e5bc6507-d052-447f-93c7-db7ef32211da"], results["ipv4-addr:value=60.10.1.121"]);
        Assert.Equal(["indicator--031778a4-057f-48e6-9db9-c8d72b81ccd5"], results["ipv4-addr:value=223.167.9.9"]);
        Assert.Equal(["indicator--b2f09ce0-2db4-480f-bd2f-073ddb3a0c87"], results["domain-name:value=JS001.3322.org"]);
        Assert.Equal(["indicator--57c4448b-3fa4-4d65-9ccc-4afa950d210f"], results["file:hashes.'SHA-256'=B3C4AE251F8094FA15B510051835C657EAEF2A6CEA46075D3AEC964B14A99F68"]);
        Assert.Single(results["file:hashes.md5=002325a0a67fded0381b5648d7fe9b8e"]);
        Assert.Empty(results["url:value=http://example.com/"]);

        using var document = JsonDocument.Parse(result.Out);
        var feed = document.RootElement.GetProperty("feed");
        Assert.Equal(25 + 12 + 4, feed.GetProperty("indicators").GetInt32());
        Assert.Equal(5, feed.GetProperty("skipped").GetInt32());
        Assert.Contains(feed.GetProperty("listed").EnumerateArray(), l => l.GetProperty("reasons")[0].GetString() == "not observed by Enclave: x509-certificate:issuer, x509-certificate:serial_number");
    }

    [Fact]
    public async Task IntelTest_Text_ListsMatchesOnStdout_AndTheFeedSummaryOnStderr()
    {
        var result = await CliRunner.RunAsync("intel", "test", "--stix", Shared("stix/cti-stix-elevator/Appendix_G_IOCs_Full.json"), "file:hashes.MD5=b305b543da332a2fcf6e1ce55ed2ea79");
        Assert.Equal(0, result.ExitCode);
        // Two indicators list the hash; the third (COMBOS) has the disjunct file:hashes.MD5 NOT = 'ec1e62ef...', which
        // every other MD5 satisfies (STIX 2.1 section 9.4: NOT negates the comparison of a value that exists).
        Assert.StartsWith("file:hashes.MD5=b305b543da332a2fcf6e1ce55ed2ea79: 3 match(es)", result.Out, StringComparison.Ordinal);
        Assert.Contains("indicator--c8a6f10c-3540-45a0-a94b-c367374770a7  COMBOS (FAMILY)", result.Out, StringComparison.Ordinal);
        Assert.Contains("feed: 47 indicators: 1 evaluable, 46 partial, 0 observed-data only, 0 not evaluable", result.Error, StringComparison.Ordinal);
        Assert.Contains(@"MATCHES regex 'Software\Microsoft\Windows\CurrentVersion\Run' is invalid", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IntelTest_Observed_EvaluatesWholePatterns_FollowingReferences()
    {
        var feed = Path.Combine(_dir, "feed.json");
        await File.WriteAllTextAsync(feed, """
            {"type":"bundle","id":"bundle--0f3e2b0a-8a8e-4c39-9a5e-1d5c8c0b1a01","objects":[
             {"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000001","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[email-message:from_ref.value = 'mallory@evil.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
             {"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000002","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[domain-name:resolves_to_refs[*].value ISSUBSET '198.51.100.0/24']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
             {"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000003","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[email-message:from_ref.value = 'alice@example.com']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z"},
             {"type":"indicator","spec_version":"2.1","id":"indicator--a0000000-0000-4000-8000-000000000004","created":"2026-01-01T00:00:00Z","modified":"2026-01-01T00:00:00Z","pattern":"[email-message:from_ref.value = 'mallory@evil.example']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","revoked":true}
            ]}
            """);
        var observed = Path.Combine(_dir, "observed.json");
        await File.WriteAllTextAsync(observed, """
            {"type":"bundle","id":"bundle--0f3e2b0a-8a8e-4c39-9a5e-1d5c8c0b1a02","objects":[
             {"type":"observed-data","spec_version":"2.1","id":"observed-data--b0000000-0000-4000-8000-000000000001","created":"2026-02-01T00:00:00Z","modified":"2026-02-01T00:00:00Z","first_observed":"2026-02-01T00:00:00Z","last_observed":"2026-02-01T00:00:00Z","number_observed":1,
              "object_refs":["email-message--c0000000-0000-4000-8000-000000000001","domain-name--c0000000-0000-4000-8000-000000000003"]},
             {"type":"email-message","spec_version":"2.1","id":"email-message--c0000000-0000-4000-8000-000000000001","is_multipart":false,"from_ref":"email-addr--c0000000-0000-4000-8000-000000000002","subject":"invoice"},
             {"type":"email-addr","spec_version":"2.1","id":"email-addr--c0000000-0000-4000-8000-000000000002","value":"mallory@evil.example"},
             {"type":"domain-name","spec_version":"2.1","id":"domain-name--c0000000-0000-4000-8000-000000000003","value":"c2.evil.example","resolves_to_refs":["ipv4-addr--c0000000-0000-4000-8000-000000000004"]},
             {"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--c0000000-0000-4000-8000-000000000004","value":"198.51.100.23"}
            ]}
            """);
        var result = await CliRunner.RunAsync("intel", "test", "--stix", feed, "--observed", observed, "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(["indicator--a0000000-0000-4000-8000-000000000001", "indicator--a0000000-0000-4000-8000-000000000002"], Results(result.Out)[observed]);
    }

    [Fact]
    public async Task IntelTest_AtTime_RespectsValidity()
    {
        var apt1 = Shared("stix/cti-stix2-json-schemas/apt1.json");
        var before = await CliRunner.RunAsync("intel", "test", "--stix", apt1, "--at", "2000-01-01T00:00:00Z", "--json", "domain-name:value=hugesoft.org");
        Assert.Empty(Results(before.Out)["domain-name:value=hugesoft.org"]);
        var after = await CliRunner.RunAsync("intel", "test", "--stix", apt1, "--at", "2026-01-01T00:00:00Z", "--json", "domain-name:value=hugesoft.org");
        Assert.Single(Results(after.Out)["domain-name:value=hugesoft.org"]);
    }

    [Fact]
    public async Task IntelTest_BadInput_ExitsWithNamedCodes()
    {
        var apt1 = Shared("stix/cti-stix2-json-schemas/apt1.json");
        var observable = await CliRunner.RunAsync("intel", "test", "--stix", apt1, "ipv4-addr=1.2.3.4");
        Assert.Equal((int)ExitCode.InvalidInput, observable.ExitCode);
        Assert.Contains("observable 'ipv4-addr=1.2.3.4'", observable.Error, StringComparison.Ordinal);

        var missing = await CliRunner.RunAsync("intel", "test", "--stix", Path.Combine(_dir, "nope.json"), "ipv4-addr:value=1.2.3.4");
        Assert.Equal((int)ExitCode.NotFound, missing.ExitCode);

        var duplicate = Path.Combine(_dir, "dup.json");
        await File.WriteAllTextAsync(duplicate, """{"type":"bundle","type":"bundle","objects":[]}""");
        var rejected = await CliRunner.RunAsync("intel", "test", "--stix", duplicate, "--json", "ipv4-addr:value=1.2.3.4");
        Assert.Equal((int)ExitCode.InvalidInput, rejected.ExitCode);
        Assert.Contains("DuplicateKey", rejected.Out, StringComparison.Ordinal);

        var neither = await CliRunner.RunAsync("intel", "test", "--stix", apt1);
        Assert.Equal((int)ExitCode.InvalidInput, neither.ExitCode);
        var noFeed = await CliRunner.RunAsync("intel", "test", "ipv4-addr:value=1.2.3.4");
        Assert.Equal((int)ExitCode.InvalidInput, noFeed.ExitCode);
    }
}
