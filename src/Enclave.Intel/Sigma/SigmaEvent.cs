using System.Globalization;
using System.Text.Json;

namespace Enclave.Intel.Sigma;

/// <summary>
/// One event as Sigma sees it: flat field names mapped to their values (a field from a JSON array holds several values;
/// JSON <c>null</c> is a present field with a <see langword="null"/> value), the event's time and its log source.
/// </summary>
public sealed class SigmaEvent
{
    private static readonly IReadOnlyList<string?> NullValue = [null];

    public SigmaEvent(DateTimeOffset time, SigmaLogSource logSource, IReadOnlyDictionary<string, IReadOnlyList<string?>> fields, long? position = null)
    {
        ArgumentNullException.ThrowIfNull(logSource);
        ArgumentNullException.ThrowIfNull(fields);
        Time = time;
        LogSource = logSource;
        Fields = fields;
        Position = position;
    }

    /// <summary>When it happened; correlation windows are measured on it.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The log source the event came from; a rule's <c>logsource</c> is matched against it.</summary>
    public SigmaLogSource LogSource { get; }

    /// <summary>Field name (case-sensitive) to its values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string?>> Fields { get; }

    /// <summary>Where the event is: a ledger index, or a line number of an events file; named as evidence in matches.</summary>
    public long? Position { get; }

    /// <summary>An event from single-valued fields (tests, other log sources).</summary>
    public static SigmaEvent FromFields(DateTimeOffset time, SigmaLogSource logSource, IReadOnlyDictionary<string, string?> fields, long? position = null)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return new SigmaEvent(time, logSource, fields.ToDictionary(f => f.Key, f => f.Value is null ? NullValue : (IReadOnlyList<string?>)[f.Value], StringComparer.Ordinal), position);
    }

    /// <summary>Most fields kept from one audit event.</summary>
    public const int MaxAuditFields = 1024;

    /// <summary>Most values kept per field of one audit event (arrays).</summary>
    public const int MaxValuesPerField = 1024;

    /// <summary>
    /// Flattens one canonical audit event (as <c>enclave ledger get</c> prints it): <c>type</c>, <c>time</c>,
    /// <c>actor</c>, <c>subject</c> as they are; every member of <c>details</c> as <c>details.NAME</c>, nested objects
    /// as <c>details.policy.rule</c>; an array gives its field several values (<c>details.roles</c>,
    /// <c>details.targets.sha256</c>). The log source is <c>product: enclave</c>, <c>service: audit</c>, and the
    /// category is the audit area of the type (<see cref="AuditCategory"/>). Throws <see cref="FormatException"/> on
    /// anything else.
    /// </summary>
    public static SigmaEvent FromAuditJson(ReadOnlySpan<byte> json, long? position = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not an audit event: {ex.Message}", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("not an audit event: the JSON is not an object");
            }

            if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(type.GetString()))
            {
                throw new FormatException("not an audit event: no \"type\" string");
            }

            if (!root.TryGetProperty("time", out var timeElement) || timeElement.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(timeElement.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                throw new FormatException("not an audit event: no RFC 3339 \"time\"");
            }

            var fields = new Dictionary<string, List<string?>>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                Flatten(property.Name, property.Value, fields);
            }

            var typeName = type.GetString()!;
            return new SigmaEvent(
                time,
                new SigmaLogSource { Product = "enclave", Category = AuditCategory(typeName), Service = "audit" },
                fields.ToDictionary(f => f.Key, f => (IReadOnlyList<string?>)f.Value, StringComparer.Ordinal),
                position);
        }
    }

    /// <summary>
    /// The Sigma category of an audit event type: its first dotted word, with <c>user.*</c> and <c>key.*</c> both
    /// <c>identity</c> (<c>request</c>, <c>auth</c>, <c>identity</c>, <c>retention</c>, <c>import</c>, <c>server</c>, <c>state</c>, ...).
    /// </summary>
    public static string AuditCategory(string type)
    {
        ArgumentNullException.ThrowIfNull(type);
        var dot = type.IndexOf('.', StringComparison.Ordinal);
        var area = dot < 0 ? type : type[..dot];
        return area is "user" or "key" ? "identity" : area;
    }

    private static void Flatten(string name, JsonElement value, Dictionary<string, List<string?>> fields)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in value.EnumerateObject())
                {
                    Flatten(name + "." + property.Name, property.Value, fields);
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    Flatten(name, item, fields);
                }

                break;
            default:
                if (!fields.TryGetValue(name, out var values))
                {
                    if (fields.Count >= MaxAuditFields)
                    {
                        throw new FormatException($"audit event has more than {MaxAuditFields} fields");
                    }

                    fields[name] = values = [];
                }

                if (values.Count >= MaxValuesPerField)
                {
                    throw new FormatException($"audit event field {name} has more than {MaxValuesPerField} values");
                }

                values.Add(value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.Null => null,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => value.GetRawText(),
                });
                break;
        }
    }
}
