using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.State.Vulnerabilities;

namespace Enclave.Intel.Vulnerabilities.Findings;

/// <summary>
/// Writes the VEX decisions made in the enclave as an OpenVEX 0.2.0 document (https://github.com/openvex/spec):
/// one statement per (artifact, component, advisory), the latest decision; a decision about one artifact names the
/// artifact as the product and the component as its subcomponent. <c>not_affected</c> carries its justification or
/// impact statement, <c>affected</c> an action statement, as the specification requires.
/// </summary>
public static class OpenVexWriter
{
    /// <summary>The OpenVEX context this writes.</summary>
    public const string Context = "https://openvex.dev/ns/v0.2.0";

    public static JsonObject Write(IReadOnlyList<VexDecisionRow> decisions, string author, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(author);
        var latest = decisions
            .GroupBy(d => (d.InventoryId, d.Product, d.AdvisoryId))
            .Select(g => g.OrderBy(d => d.Seq).Last())
            .OrderBy(d => d.Seq)
            .ToList();
        var statements = new JsonArray();
        foreach (var d in latest)
        {
            JsonObject product = d.InventoryId is null
                ? new JsonObject { ["@id"] = d.Product }
                : new JsonObject { ["@id"] = "urn:enclave:" + d.InventoryId, ["subcomponents"] = new JsonArray(new JsonObject { ["@id"] = d.Product }) };
            var statement = new JsonObject
            {
                ["vulnerability"] = new JsonObject { ["name"] = d.AdvisoryId },
                ["timestamp"] = AuditEvent.FormatTime(d.Decided),
                ["products"] = new JsonArray(product),
                ["status"] = d.Status,
            };
            if (d.Justification is not null)
            {
                statement["justification"] = d.Justification;
            }

            if (d.Status == "not_affected" && d.Statement is not null)
            {
                statement["impact_statement"] = d.Statement;
            }
            else if (d.Status == "affected")
            {
                statement["action_statement"] = d.Statement ?? "no remediation decided yet; see the enclave's findings";
            }
            else if (d.Statement is not null)
            {
                statement["status_notes"] = d.Statement;
            }

            statements.Add(statement);
        }

        var body = statements.ToJsonString();
        var id = "urn:enclave:vex:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..32];
        return new JsonObject
        {
            ["@context"] = Context,
            ["@id"] = id,
            ["author"] = author,
            ["timestamp"] = AuditEvent.FormatTime(now),
            ["version"] = Math.Max(1, decisions.Count),
            ["tooling"] = "Enclave",
            ["statements"] = statements,
        };
    }
}
