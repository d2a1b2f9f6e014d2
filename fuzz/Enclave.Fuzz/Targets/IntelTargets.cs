using System.Text;
using Enclave.Intel.Misp;
using Enclave.Intel.Sigma;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The parsers of untrusted feeds in <c>Enclave.Intel</c>: STIX 2.1 bundles and patterns, MISP events, OSV records,
/// SBOMs (CycloneDX, SPDX), VEX documents (OpenVEX, CycloneDX, CSAF), the KEV catalog and Sigma rules. Each accepts
/// only its own rejection: <see cref="StixRejectedException"/>, <see cref="StixPatternException"/>,
/// <see cref="VulnerabilityDataException"/>, <see cref="SigmaRejectedException"/>.
/// </summary>
internal static class IntelTargets
{
    public static Harness StixBundle { get; } = new()
    {
        Name = "stix-bundle",
        Parser = "Enclave.Intel.Stix.StixBundleReader, then StixPattern.Parse on each indicator (as IndicatorAssessor does)",
        Run = RunStixBundle,
        Seeds = () =>
        [
            Seeds.Text("indicator.json", """{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","name":"Poison Ivy Malware","pattern":"[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']","pattern_type":"stix","valid_from":"2016-01-01T00:00:00Z","confidence":80},{"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd","value":"198.51.100.3"},{"type":"observed-data","spec_version":"2.1","id":"observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf","created":"2016-04-06T19:58:16.000Z","modified":"2016-04-06T19:58:16.000Z","first_observed":"2015-12-21T19:00:00Z","last_observed":"2015-12-21T19:00:00Z","number_observed":1,"object_refs":["ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd"]}]}"""),
            .. SharedSeeds.Files("intel/stix", "*.json", maxCount: 8),
        ],
    };

    public static Harness StixPattern { get; } = new()
    {
        Name = "stix-pattern",
        Parser = "Enclave.Intel.Stix.Patterns.StixPattern.Parse (STIX 2.1 patterning, section 9)",
        Run = RunStixPattern,
        Seeds = () =>
        [
            Seeds.Text("hash.txt", "[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']"),
            Seeds.Text("or.txt", "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.33/32']"),
            Seeds.Text("followedby.txt", "([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY_LOCAL_MACHINE\\\\foo\\\\bar']) FOLLOWEDBY [process:name MATCHES '^[a-z]+\\\\.exe$'] WITHIN 300 SECONDS"),
            Seeds.Text("qualifiers.txt", "[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = 'example.com'] REPEATS 5 TIMES START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"),
            Seeds.Text("ops.txt", "[email-message:from_ref.value LIKE '%@example.com' AND NOT email-message:subject IN ('a', 'b') AND file:size >= 1024 AND file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0 AND EXISTS file:parent_directory_ref AND artifact:payload_bin = b'aGVsbG8=' AND file:hashes.MD5 != h'00ff' AND url:value ISSUBSET '10.0.0.0/8' AND user-account:is_admin = true]"),
        ],
    };

    public static Harness Misp { get; } = new()
    {
        Name = "misp-event",
        Parser = "Enclave.Intel.Misp.MispFeedReader.ReadEvent (one event of a MISP feed)",
        Run = RunMisp,
        Seeds = () =>
        [
            Seeds.Text("event.json", """{"Event":{"uuid":"57c4445b-c548-4654-af0b-4be3950d210f","info":"test","timestamp":"1465681304","Attribute":[{"type":"ip-dst","value":"198.51.100.7","to_ids":true,"timestamp":"1465681304","uuid":"57c4445b-0000-4654-af0b-4be3950d210f"},{"type":"filename|sha256","value":"a.exe|4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877","to_ids":true},{"type":"ip-dst|port","value":"203.0.113.9|443","to_ids":true},{"type":"domain|ip","value":"example.com|192.0.2.1","to_ids":true},{"type":"url","value":"http://example.com/a'b","to_ids":true}],"Object":[{"name":"file","Attribute":[{"type":"md5","value":"d41d8cd98f00b204e9800998ecf8427e","to_ids":true}]}]}}"""),
            .. SharedSeeds.Files("intel/misp", "*.json", maxCount: 2, maxBytes: 16384),
        ],
    };

    public static Harness Osv { get; } = new()
    {
        Name = "osv",
        Parser = "Enclave.Intel.Vulnerabilities.Osv.OsvParser.Parse (OSV schema 1.x)",
        Run = input => Vulnerability(() => OsvParser.Parse(input, "fuzz.json")),
        Seeds = () =>
        [
            Seeds.Text("record.json", """{"schema_version":"1.6.0","id":"GHSA-xxxx-yyyy-zzzz","modified":"2024-01-01T00:00:00Z","published":"2023-12-01T00:00:00Z","aliases":["CVE-2023-0001"],"summary":"s","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],"affected":[{"package":{"ecosystem":"PyPI","name":"requests","purl":"pkg:pypi/requests"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.31.0"}]},{"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.2.3"}]},{"type":"GIT","repo":"https://example.com/r","events":[{"introduced":"abc"},{"limit":"def"}]}],"versions":["2.30.0"],"database_specific":{"x":1}}],"withdrawn":null}"""),
            Seeds.Text("array.json", """[{"id":"OSV-1","modified":"2024-01-01T00:00:00Z"},{"id":"OSV-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"Go","name":"x"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}]"""),
            .. SharedSeeds.Files("intel/osv", "*.json", maxCount: 6, maxBytes: 4096),
        ],
    };

    public static Harness Sbom { get; } = new()
    {
        Name = "sbom",
        Parser = "Enclave.Intel.Vulnerabilities.Sbom.SbomReader.Read (CycloneDX 1.4-1.6, SPDX 2.3)",
        Run = input => Vulnerability(() => SbomReader.Read(input, "fuzz.json")),
        Seeds = () =>
        [
            Seeds.Text("cyclonedx.json", """{"bomFormat":"CycloneDX","specVersion":"1.6","version":1,"components":[{"type":"library","name":"requests","version":"2.30.0","purl":"pkg:pypi/requests@2.30.0","components":[{"type":"library","name":"idna","version":"3.4","purl":"pkg:pypi/idna@3.4?x=1#sub"}]},{"type":"library","name":"bad","purl":"pkg:%zz"}]}"""),
            Seeds.Text("spdx.json", """{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","packages":[{"SPDXID":"SPDXRef-a","name":"lodash","versionInfo":"4.17.20","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/lodash@4.17.20"}]}]}"""),
            .. SharedSeeds.Files("intel/sbom", "*.json", maxCount: 6),
        ],
    };

    public static Harness Vex { get; } = new()
    {
        Name = "vex",
        Parser = "Enclave.Intel.Vulnerabilities.Vex.VexReader.Read (OpenVEX, CycloneDX VEX, CSAF 2.0 csaf_vex)",
        Run = input => Vulnerability(() => VexReader.Read(input, "fuzz.json")),
        Seeds = () =>
        [
            Seeds.Text("openvex.json", """{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"a","timestamp":"2024-01-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-2023-0001"},"products":[{"@id":"pkg:pypi/requests@2.30.0","subcomponents":[{"@id":"pkg:pypi/idna@3.4"}]}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}"""),
            Seeds.Text("cyclonedx.json", """{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[{"bom-ref":"r1","name":"x","purl":"pkg:npm/x@1.0.0"}],"vulnerabilities":[{"id":"CVE-2023-0002","analysis":{"state":"resolved","justification":"code_not_reachable"},"affects":[{"ref":"r1","versions":[{"version":"1.0.0","status":"affected"}]}]}]}"""),
            Seeds.Text("csaf.json", """{"document":{"category":"csaf_vex","csaf_version":"2.0","title":"t","tracking":{"id":"x","status":"final","version":"1"}},"product_tree":{"branches":[{"category":"vendor","name":"v","branches":[{"category":"product_version","name":"1.0","product":{"product_id":"P1","name":"p 1.0","product_identification_helper":{"purl":"pkg:npm/p@1.0"}}}]}],"full_product_names":[{"product_id":"P2","name":"q"}]},"vulnerabilities":[{"cve":"CVE-2023-0003","product_status":{"known_not_affected":["P1"],"fixed":["P2"]},"flags":[{"label":"vulnerable_code_not_present","product_ids":["P1"]}]}]}"""),
            .. SharedSeeds.Files("intel/vex", "*.json", maxCount: 8),
        ],
    };

    public static Harness Kev { get; } = new()
    {
        Name = "kev",
        Parser = "Enclave.Intel.Vulnerabilities.Kev.KevCatalog.Read (CISA Known Exploited Vulnerabilities)",
        Run = input => Vulnerability(() => KevCatalog.Read(input, "fuzz.json")),
        Seeds = () =>
        [
            Seeds.Text("catalog.json", """{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2024.01.01","dateReleased":"2024-01-01T12:00:00.0000Z","count":2,"vulnerabilities":[{"cveID":"CVE-2021-44228","vendorProject":"Apache","product":"Log4j2","vulnerabilityName":"Log4Shell","dateAdded":"2021-12-10","shortDescription":"s","requiredAction":"a","dueDate":"2021-12-24","knownRansomwareCampaignUse":"Known","notes":"","cwes":["CWE-20"]},{"cveID":"CVE-2023-12345","dateAdded":"2023-01-02","dueDate":"2023-01-23"}]}"""),
        ],
    };

    public static Harness Sigma { get; } = new()
    {
        Name = "sigma",
        Parser = "Enclave.Intel.Sigma.SigmaRuleReader (YAML, detections, conditions, modifiers, correlations, filters)",
        Run = RunSigma,
        Seeds = () =>
        [
            Seeds.Text("rule.yml", "title: t\nid: 5d0092c5-5f74-4287-9642-33f4c354e56d\nstatus: test\nlogsource:\n  product: enclave\n  category: audit\ndetection:\n  sel:\n    type: request.denied\n    actor|startswith: 'user:'\n    subject|re: '^model:.*'\n    details.count|gte: 3\n  other:\n    - a|contains|all: [x, y]\n    - b|cidr: 10.0.0.0/8\n    - c|base64offset|contains: abc\n  filter:\n    d: null\n  condition: (sel or 1 of other*) and not filter\nlevel: high\n"),
            Seeds.Text("correlation.yml", "title: base\nname: base\nlogsource:\n  product: enclave\ndetection:\n  sel:\n    type: auth.failed\n  condition: sel\n---\ntitle: many\ncorrelation:\n  type: event_count\n  rules: [base]\n  group-by: [actor]\n  timespan: 5m\n  condition:\n    gte: 10\nlevel: medium\n"),
            Seeds.Text("filter.yml", "title: f\nlogsource:\n  product: enclave\nfilter:\n  rules: [base]\n  selection:\n    actor: 'user:ops'\n  condition: not selection\n"),
            .. SharedSeeds.Files("intel/sigma", "*.yml", maxCount: 8, maxBytes: 4096),
        ],
    };

    private static readonly SigmaReaderOptions SigmaLimits = SigmaReaderOptions.Default with { RegexMatchTimeout = TimeSpan.FromMilliseconds(100) };

    private static void RunStixBundle(byte[] input)
    {
        StixBundle bundle;
        try
        {
            bundle = new StixBundleReader().Read(input, "fuzz.json");
        }
        catch (StixRejectedException)
        {
            return;
        }

        foreach (var indicator in bundle.Indicators)
        {
            if (indicator.PatternType == "stix")
            {
                try
                {
                    Intel.Stix.Patterns.StixPattern.Parse(indicator.Pattern);
                }
                catch (StixPatternException)
                {
                }
            }
        }
    }

    private static void RunStixPattern(byte[] input)
    {
        try
        {
            Intel.Stix.Patterns.StixPattern.Parse(Encoding.UTF8.GetString(input));
        }
        catch (StixPatternException)
        {
        }
    }

    private static void RunMisp(byte[] input)
    {
        try
        {
            var feed = new MispFeedReader().ReadEvent(input, "fuzz.json");
            foreach (var indicator in feed.Indicators)
            {
                // Every pattern MISP attributes are mapped to must be one Enclave's own parser accepts.
                Intel.Stix.Patterns.StixPattern.Parse(indicator.Pattern);
            }
        }
        catch (StixRejectedException)
        {
        }
    }

    private static void Vulnerability(Action parse)
    {
        try
        {
            parse();
        }
        catch (VulnerabilityDataException)
        {
        }
    }

    private static void RunSigma(byte[] input)
    {
        try
        {
            new SigmaRuleReader(SigmaLimits).Read(input, "fuzz.yml");
        }
        catch (SigmaRejectedException)
        {
        }
    }
}
