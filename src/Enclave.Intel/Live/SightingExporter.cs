using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Intel.Alerts;

namespace Enclave.Intel.Live;

/// <summary>
/// The enclave's sightings as a STIX 2.1 bundle to carry out to the connected SOC: one <c>identity</c> (the enclave,
/// where the sightings were made) and one <c>sighting</c> per alert raised by an indicator hit (<c>sighting_of_ref</c>
/// the indicator, <c>first_seen</c>/<c>last_seen</c> the alert's time, <c>where_sighted_refs</c> the identity). IDs are
/// derived from the alert IDs, so exporting twice gives the same objects.
/// </summary>
public static class SightingExporter
{
    /// <summary>Builds the bundle from <paramref name="alerts"/> (those without an <c>indicator</c> fact are left out).</summary>
    public static JsonObject Build(IEnumerable<Alert> alerts, string enclaveName, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        ArgumentException.ThrowIfNullOrEmpty(enclaveName);
        var stamp = AuditEvent.FormatTime(now);
        var identityId = "identity--" + DerivedUuid("identity:" + enclaveName);
        var objects = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "identity",
                ["spec_version"] = "2.1",
                ["id"] = identityId,
                ["created"] = stamp,
                ["modified"] = stamp,
                ["name"] = enclaveName,
                ["identity_class"] = "system",
            },
        };
        foreach (var alert in alerts.Where(a => a.Kind == AlertKind.Intel).OrderBy(a => a.RaisedIndex))
        {
            if (!alert.Evidence.Facts.TryGetValue("indicator", out var indicator) || !indicator.StartsWith("indicator--", StringComparison.Ordinal))
            {
                continue;
            }

            var raised = AuditEvent.FormatTime(alert.Raised);
            objects.Add(new JsonObject
            {
                ["type"] = "sighting",
                ["spec_version"] = "2.1",
                ["id"] = "sighting--" + DerivedUuid("sighting:" + alert.Id),
                ["created"] = raised,
                ["modified"] = raised,
                ["sighting_of_ref"] = indicator,
                ["count"] = 1,
                ["first_seen"] = raised,
                ["last_seen"] = raised,
                ["where_sighted_refs"] = new JsonArray(identityId),
                ["description"] = alert.Evidence.Summary,
                ["external_references"] = new JsonArray(new JsonObject
                {
                    ["source_name"] = "enclave-ledger",
                    ["external_id"] = alert.Id,
                    ["description"] = $"alert.raised at ledger index {alert.RaisedIndex}; evidence at ledger indices {string.Join(", ", alert.Evidence.LedgerIndices)}",
                }),
            });
        }

        return new JsonObject
        {
            ["type"] = "bundle",
            ["id"] = "bundle--" + Guid.NewGuid().ToString("D"),
            ["objects"] = objects,
        };
    }

    // A UUID (version 4 layout) derived from a name: the same alert always gives the same sighting ID.
    private static string DerivedUuid(string name)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x40);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return $"{Convert.ToHexStringLower(hash[..4])}-{Convert.ToHexStringLower(hash[4..6])}-{Convert.ToHexStringLower(hash[6..8])}-{Convert.ToHexStringLower(hash[8..10])}-{Convert.ToHexStringLower(hash[10..16])}";
    }
}
