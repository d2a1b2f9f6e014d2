using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave vulns ...</c>: vulnerability matching. <c>match</c> runs locally, with no enclave.</summary>
internal static class VulnsCommands
{
    public static Command Create(CliContext context)
    {
        var vulns = new Command("vulns", "Vulnerabilities: OSV advisories, CISA KEV and VEX matched against SBOMs.");
        vulns.Subcommands.Add(Match(context));
        return vulns;
    }

    private static Command Match(CliContext context)
    {
        var osv = new Option<string[]>("--osv")
        {
            Description = "OSV advisories: JSON files, folders of them, or zips as osv.dev publishes them per ecosystem (repeatable).",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var sbom = new Option<string>("--sbom") { Description = "The SBOM to check: CycloneDX 1.4-1.6 or SPDX 2.3 JSON.", Required = true };
        var kev = new Option<string?>("--kev") { Description = "CISA Known Exploited Vulnerabilities catalog (JSON) to flag findings." };
        var vex = new Option<string[]>("--vex") { Description = "VEX documents (OpenVEX, CycloneDX VEX, CSAF 2.0 csaf_vex) whose statements set each finding's status (repeatable).", AllowMultipleArgumentsPerToken = true };
        var json = TrustCommands.JsonOption();
        var command = new Command("match", "Print the findings for one SBOM against the given advisories, without an enclave: affected components, severity (CVSS base score computed from the vector), KEV flag, VEX status, and what could not be decided (unknown).")
        {
            osv, sbom, kev, vex, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var database = new OsvDatabase();
            foreach (var path in result.GetValue(osv) ?? [])
            {
                OsvLoader.LoadPath(database, path);
            }

            foreach (var problem in database.Problems)
            {
                await context.Error.WriteLineAsync($"warning: skipped {problem.Source} ({problem.Reason}): {problem.Message}").ConfigureAwait(false);
            }

            var document = SbomReader.Read(result.GetValue(sbom)!);
            var catalog = result.GetValue(kev) is { } kevPath ? KevCatalog.Read(kevPath) : null;
            VexIndex? index = null;
            foreach (var path in result.GetValue(vex) ?? [])
            {
                index ??= new VexIndex();
                index.Add(VexReader.Read(path));
            }

            var match = VulnerabilityMatcher.Match(document.Components, database);
            var findings = FindingAssessor.Assess(match.Findings, catalog, index)
                .OrderBy(f => f.Finding.Component.PurlText, StringComparer.Ordinal)
                .ThenBy(f => f.Finding.Advisory.Id, StringComparer.Ordinal)
                .ToList();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, Json(findings, match.Unknown)).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteAsync(Table(findings, match.Unknown, database, document, catalog)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static JsonObject Json(IReadOnlyList<AssessedFinding> findings, IReadOnlyList<UnknownMatch> unknown)
    {
        var items = new JsonArray();
        foreach (var f in findings)
        {
            items.Add(new JsonObject
            {
                ["purl"] = f.Finding.Component.PurlText,
                ["version"] = f.Finding.Version,
                ["id"] = f.Finding.Advisory.Id,
                ["aliases"] = new JsonArray(f.Finding.Advisory.Aliases.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
                ["severity"] = f.Severity is null ? null : new JsonObject
                {
                    ["score"] = f.Severity.BaseScore,
                    ["rating"] = f.Severity.Severity,
                    ["vector"] = f.Severity.Vector,
                },
                ["kev"] = f.Kev is null ? null : new JsonObject
                {
                    ["cve"] = f.Kev.CveId,
                    ["dueDate"] = f.Kev.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                },
                ["status"] = Status(f.Status),
            });
        }

        var unknowns = new JsonArray();
        foreach (var u in unknown)
        {
            unknowns.Add(new JsonObject { ["purl"] = u.Component.PurlText, ["reason"] = u.Reason });
        }

        return new JsonObject { ["findings"] = items, ["unknown"] = unknowns };
    }

    internal static string Status(VexStatus status) => status switch
    {
        VexStatus.NotAffected => "not_affected",
        VexStatus.Fixed => "fixed",
        VexStatus.UnderInvestigation => "under_investigation",
        _ => "affected",
    };

    private static string Table(IReadOnlyList<AssessedFinding> findings, IReadOnlyList<UnknownMatch> unknown, OsvDatabase database, SbomDocument document, KevCatalog? catalog)
    {
        var text = new StringBuilder();
        var live = database.Records.Values.Where(r => r.Withdrawn is null).ToList();
        var newest = live.Count == 0 ? null : live.Max(r => r.Modified).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        text.AppendLine(CultureInfo.InvariantCulture, $"{document.Format} {document.SpecVersion}: {document.Components.Count} components; {live.Count} advisories in force (newest modified {newest ?? "none: no data"}){(catalog is null ? "" : $"; KEV catalog {catalog.CatalogVersion}")}");
        if (live.Count == 0)
        {
            text.AppendLine("no vulnerability data: nothing can be said about these components (this is not \"0 findings\")");
        }

        if (findings.Count > 0)
        {
            var rows = findings.Select(f => new[]
            {
                f.Finding.Component.PurlText ?? f.Finding.Component.Name,
                f.Finding.Advisory.Id,
                f.Severity is null ? "-" : $"{f.Severity.BaseScore.ToString("0.0", CultureInfo.InvariantCulture)} {f.Severity.Severity}",
                f.Kev is null ? "-" : $"KEV due {f.Kev.DueDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}",
                Status(f.Status) + (f.Vex?.Justification is { } j ? $" ({j})" : ""),
                f.Finding.FixedVersions.Count == 0 ? "no fix" : "fixed in " + string.Join(", ", f.Finding.FixedVersions),
            }).ToList();
            var header = new[] { "COMPONENT", "ADVISORY", "SEVERITY", "KEV", "STATUS", "FIX" };
            var widths = Enumerable.Range(0, header.Length).Select(i => Math.Max(header[i].Length, rows.Max(r => r[i].Length))).ToArray();
            foreach (var row in rows.Prepend(header))
            {
                text.AppendLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
            }
        }

        var open = findings.Count(f => f.Status is VexStatus.Affected or VexStatus.UnderInvestigation);
        text.AppendLine(CultureInfo.InvariantCulture, $"{findings.Count} findings: {open} open, {findings.Count - open} resolved by VEX; {findings.Count(f => f.Kev is not null)} known exploited (KEV)");
        if (unknown.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{unknown.Count} unknown (could not be decided; not \"not affected\"):");
            foreach (var u in unknown)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {u.Component.PurlText ?? u.Component.Name}: {u.Reason}");
            }
        }

        return text.ToString();
    }
}
