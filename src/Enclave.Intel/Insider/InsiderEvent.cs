using System.Globalization;
using System.Text.Json;

namespace Enclave.Intel.Insider;

/// <summary>
/// One audit event as the insider engine sees it: the ledger entry's envelope (<c>docs/audit-events.md</c>) with
/// <c>details</c> flattened to a map. Nested objects join their keys with dots and arrays use their index:
/// <c>policy.label</c>, <c>policy.egress.0.action</c>, <c>roles.0</c>; values are the JSON scalars as text
/// (<c>true</c>, <c>403</c>, <c>SECRET</c>). Named apart from <c>Enclave.Core.Audit.AuditEvent</c>, the ledger's own
/// envelope, which <see cref="FromAuditJson"/> reads.
/// </summary>
public sealed record InsiderEvent
{
    internal static readonly IReadOnlyDictionary<string, string> NoDetails = new Dictionary<string, string>(0, StringComparer.Ordinal);

    /// <summary>The event type, e.g. <c>request.admitted</c>.</summary>
    public required string Type { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Who did it: <c>user:NAME</c>, <c>service:NAME</c>, <c>key:ID</c>, <c>anonymous</c>, <c>system</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>What it was done to.</summary>
    public string Subject { get; init; } = string.Empty;

    /// <summary>The flattened details.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = NoDetails;

    /// <summary>A detail's value, or null when absent.</summary>
    public string? Detail(string key) => Details.TryGetValue(key, out var value) ? value : null;

    /// <summary>Most flattened detail values kept from one entry.</summary>
    public const int MaxDetails = 1024;

    /// <summary>Deepest nesting read from one entry.</summary>
    public const int MaxDepth = 32;

    /// <summary>
    /// Reads one canonical ledger entry (<c>type</c>, <c>time</c>, <c>actor</c>, <c>subject</c>, <c>details</c>) and
    /// flattens its details (at most <see cref="MaxDetails"/> values, <see cref="MaxDepth"/> levels). Throws
    /// <see cref="FormatException"/> when it is not an audit event.
    /// </summary>
    public static InsiderEvent FromAuditJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        JsonDocument document;
        try
        {
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not an audit event: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !root.TryGetProperty("time", out var time) || time.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(time.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when))
            {
                throw new FormatException("not an audit event: it needs a \"type\" string and an RFC 3339 \"time\"");
            }

            var details = NoDetails;
            if (root.TryGetProperty("details", out var d) && d.ValueKind == JsonValueKind.Object)
            {
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                Flatten(d, null, map);
                details = map;
            }

            return new InsiderEvent
            {
                Type = type.GetString()!,
                Time = when,
                Actor = root.TryGetProperty("actor", out var actor) && actor.ValueKind == JsonValueKind.String ? actor.GetString()! : string.Empty,
                Subject = root.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.String ? subject.GetString()! : string.Empty,
                Details = details,
            };
        }
    }

    private static void Flatten(JsonElement element, string? prefix, Dictionary<string, string> map)
    {
        if (map.Count >= MaxDetails)
        {
            return;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                {
                    Flatten(p.Value, prefix is null ? p.Name : prefix + "." + p.Name, map);
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(item, (prefix ?? string.Empty) + "." + i.ToString(CultureInfo.InvariantCulture), map);
                    i++;
                }

                break;
            case JsonValueKind.String:
                map[prefix ?? string.Empty] = element.GetString()!;
                break;
            case JsonValueKind.Null:
                break;
            default:
                map[prefix ?? string.Empty] = element.GetRawText();
                break;
        }
    }
}
