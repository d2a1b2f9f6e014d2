using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Intel.Vulnerabilities.Kev;
using Enclave.Intel.Vulnerabilities.Matching;
using Enclave.Intel.Vulnerabilities.Osv;
using Enclave.Intel.Vulnerabilities.Sbom;
using Enclave.Intel.Vulnerabilities.Vex;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave vulns ...</c>: vulnerability matching. <c>match</c> runs locally, with no enclave; <c>list</c>, <c>show</c>,
/// <c>sbom add</c> and <c>vex decide|export</c> call the running server's admin API (<c>/admin/v1/vulns</c>).
/// </summary>
internal static class VulnsCommands
{
    public static Command Create(CliContext context)
    {
        var vulns = new Command("vulns", "Vulnerabilities: OSV advisories, CISA KEV and VEX matched against SBOMs.");
        vulns.Subcommands.Add(Match(context));
        vulns.Subcommands.Add(List(context));
        vulns.Subcommands.Add(Show(context));
        var sbom = new Command("sbom", "The SBOMs of the enclave's vulnerability inventory.");
        sbom.Subcommands.Add(SbomAdd(context));
        vulns.Subcommands.Add(sbom);
        var vex = new Command("vex", "VEX decisions made in the enclave: record one, export them as OpenVEX.");
        vex.Subcommands.Add(VexDecide(context));
        vex.Subcommands.Add(VexExport(context));
        vulns.Subcommands.Add(vex);
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

    private static Command List(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var severity = new Option<string[]>("--severity") { Description = "Only findings of these severities (repeatable): critical, high, medium, low, none.", AllowMultipleArgumentsPerToken = true };
        severity.AcceptOnlyFromAmong("critical", "high", "medium", "low", "none");
        var kev = new Option<bool>("--kev") { Description = "Only findings listed in CISA KEV (known exploited)." };
        var artifact = new Option<string?>("--artifact") { Description = "Only this inventory entry (artifact:KIND/NAME/VERSION, sbom:NAME or enclave)." };
        var status = new Option<string[]>("--status") { Description = "Only these statuses (repeatable): open, affected, not_affected, fixed, under_investigation.", AllowMultipleArgumentsPerToken = true };
        status.AcceptOnlyFromAmong("open", "affected", "not_affected", "fixed", "under_investigation");
        var limit = new Option<int>("--limit") { Description = "At most this many (1 to 10000).", DefaultValueFactory = _ => 1000 };
        var json = TrustCommands.JsonOption();
        var command = new Command("list", "List the findings of the enclave's inventory (activated artifacts' SBOMs, registered SBOMs, Enclave's own) with the age of the vulnerability data.")
        {
            severity, kev, artifact, status, limit, json,
        };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var query = new List<string> { "limit=" + result.GetValue(limit).ToString(CultureInfo.InvariantCulture) };
            if (result.GetValue(severity) is { Length: > 0 } s)
            {
                query.Add("severity=" + string.Join(',', s));
            }

            if (result.GetValue(kev))
            {
                query.Add("kev=true");
            }

            if (result.GetValue(artifact) is { } a)
            {
                query.Add("artifact=" + Uri.EscapeDataString(a));
            }

            if (result.GetValue(status) is { Length: > 0 } st)
            {
                query.Add("status=" + string.Join(',', st));
            }

            var answer = (await client.GetAsync("vulns/findings?" + string.Join('&', query), ct).ConfigureAwait(false))!.AsObject();
            await PrintFindingsAsync(context, answer, result.GetValue(json)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Show(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var advisory = new Argument<string>("advisory") { Description = "The advisory ID (GHSA-..., GO-..., CVE-... as the OSV record names it)." };
        var json = TrustCommands.JsonOption();
        var command = new Command("show", "Show every finding of one advisory across the inventory: components, versions, severity vector, KEV due date, fixed versions, VEX status and justification.") { advisory, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("vulns/findings?advisory=" + Uri.EscapeDataString(result.GetValue(advisory)!), ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var lines = new List<string> { "data        " + Str(answer["data"]?["message"]) };
            if (answer["findings"] is not JsonArray findings)
            {
                await context.Out.WriteLineAsync(string.Join('\n', lines)).ConfigureAwait(false);
                return ExitCode.Success;
            }

            if (findings.Count == 0)
            {
                lines.Add($"no finding of {result.GetValue(advisory)} in the inventory");
            }

            foreach (var f in findings.Select(f => f!.AsObject()))
            {
                lines.Add("");
                lines.Add($"advisory    {Str(f["id"])}" + (f["aliases"] is JsonArray { Count: > 0 } al ? $" ({string.Join(", ", al.Select(Str))})" : ""));
                lines.Add($"artifact    {Str(f["artifact"])}");
                lines.Add($"component   {Str(f["component"])} version {Str(f["version"])}");
                lines.Add($"severity    {(f["severity"] is JsonObject sv ? $"{Str(sv["score"])} {Str(sv["rating"])} {Str(sv["vector"])}" : "-")}");
                lines.Add($"kev         {(f["kev"] is JsonObject k ? $"{Str(k["cve"])} due {Str(k["dueDate"])}" : "-")}");
                lines.Add($"fixed in    {(f["fixed"] is JsonArray { Count: > 0 } fx ? string.Join(", ", fx.Select(Str)) : "no fix known")}");
                lines.Add($"status      {Str(f["status"])}" + (f["justification"] is { } j ? $" ({j})" : ""));
                lines.Add($"first seen  {Str(f["firstSeen"])}");
            }

            await context.Out.WriteLineAsync(string.Join('\n', lines)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command SbomAdd(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var name = new Argument<string>("name") { Description = "A name for the system the SBOM describes (letters, digits, '.', '-', '_'); adding it again replaces it." };
        var file = new Argument<string>("file") { Description = "The SBOM: CycloneDX 1.4-1.6 or SPDX 2.3 JSON." };
        var json = TrustCommands.JsonOption();
        var command = new Command("add", "Register the SBOM of another system in the enclave, so that the enclave is its offline vulnerability view (inventory entry sbom:NAME; vulns.sbom-added in the ledger).") { name, file, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            await using var stream = File.OpenRead(result.GetValue(file)!);
            var answer = (await client.PostStreamAsync("vulns/sboms?name=" + Uri.EscapeDataString(result.GetValue(name)!), stream, "application/json", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"registered {Str(answer["id"])}: {(answer["newFindings"] is { } n ? $"{n} new findings" : "not evaluated")}; {Str(answer["data"]?["message"])}").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command VexDecide(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var component = new Option<string>("--component") { Description = "The component's purl (pkg:TYPE/NAMESPACE/NAME[@VERSION]; without a version: every version).", Required = true };
        var advisory = new Option<string>("--advisory") { Description = "The advisory ID or an alias (e.g. GHSA-qppj-fm5r-hxr3 or CVE-2023-44487).", Required = true };
        var status = new Option<string>("--status") { Description = "The VEX status.", Required = true };
        status.AcceptOnlyFromAmong("not_affected", "affected", "fixed", "under_investigation");
        var justification = new Option<string?>("--justification") { Description = "For not_affected: why (OpenVEX justification)." };
        justification.AcceptOnlyFromAmong([.. Enclave.Intel.Vulnerabilities.Findings.VulnerabilityFindingsService.Justifications]);
        var statement = new Option<string?>("--statement") { Description = "Free text: the impact statement (not_affected) or the action (affected)." };
        var artifact = new Option<string?>("--artifact") { Description = "Only for this inventory entry (artifact:KIND/NAME/VERSION, sbom:NAME or enclave); default: everywhere." };
        var json = TrustCommands.JsonOption();
        var command = new Command("decide", "Record a VEX decision (vex.decided in the ledger); it applies to the findings at once.") { component, advisory, status, justification, statement, artifact, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var body = new JsonObject
            {
                ["artifact"] = result.GetValue(artifact),
                ["component"] = result.GetValue(component),
                ["advisory"] = result.GetValue(advisory),
                ["status"] = result.GetValue(status),
                ["justification"] = result.GetValue(justification),
                ["statement"] = result.GetValue(statement),
            };
            var answer = (await client.PostAsync("vulns/vex", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"recorded: {Str(answer["advisory"])} is {Str(answer["status"])} for {Str(answer["component"])}{(answer["artifact"] is { } a ? " in " + a : "")} (ledger index {answer["ledgerIndex"]})").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command VexExport(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var output = new Option<string?>("--output") { Description = "Write the OpenVEX document to this file instead of standard output." };
        var command = new Command("export", "Export the VEX decisions made in the enclave as an OpenVEX 0.2.0 document.") { output };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, false, async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("vulns/vex/openvex", ct).ConfigureAwait(false))!;
            var text = answer.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n";
            if (result.GetValue(output) is { } path)
            {
                await File.WriteAllTextAsync(path, text, ct).ConfigureAwait(false);
                await context.Error.WriteLineAsync($"wrote {answer["statements"]!.AsArray().Count} statements to {path}").ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteAsync(text).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>Prints a <c>/vulns/findings</c> answer: the data's freshness first, "no data" rather than an empty table.</summary>
    internal static async Task PrintFindingsAsync(CliContext context, JsonObject answer, bool json)
    {
        if (json)
        {
            await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
            return;
        }

        var text = new StringBuilder();
        var state = Str(answer["data"]?["state"]);
        text.AppendLine((state == "stale" ? "WARNING: " : "") + Str(answer["data"]?["message"]));
        if (answer["findings"] is not JsonArray findings)
        {
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return;
        }

        var rows = findings.Select(f => f!.AsObject()).Select(f => new[]
        {
            Str(f["artifact"]),
            Str(f["component"]),
            Str(f["id"]),
            f["severity"] is JsonObject s ? $"{Str(s["score"])} {Str(s["rating"])}" : "-",
            f["kev"] is JsonObject k ? $"KEV {Str(k["cve"])} due {Str(k["dueDate"])}" : "-",
            Str(f["status"]) + (f["justification"] is { } j ? $" ({j})" : ""),
            f["fixed"] is JsonArray { Count: > 0 } fx ? "fixed in " + string.Join(", ", fx.Select(Str)) : "no fix",
        }).ToList();
        if (rows.Count > 0)
        {
            var header = new[] { "ARTIFACT", "COMPONENT", "ADVISORY", "SEVERITY", "KEV", "STATUS", "FIX" };
            var widths = Enumerable.Range(0, header.Length).Select(i => Math.Max(header[i].Length, rows.Max(r => r[i].Length))).ToArray();
            foreach (var row in rows.Prepend(header))
            {
                text.AppendLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
            }
        }

        var open = findings.Count(f => Str(f!["status"]) is "affected" or "under_investigation");
        text.AppendLine(CultureInfo.InvariantCulture, $"{findings.Count} findings: {open} open, {findings.Count - open} resolved by VEX; {findings.Count(f => f!["kev"] is JsonObject)} known exploited (KEV)");
        if (answer["unknown"] is JsonArray { Count: > 0 } unknown)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{unknown.Count} unknown (could not be decided; not \"not affected\"): see --json");
        }

        await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
    }

    internal static string Str(JsonNode? node) => node switch
    {
        null => "-",
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };

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
