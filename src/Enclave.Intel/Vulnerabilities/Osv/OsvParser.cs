using System.Globalization;
using System.Text.Json;

namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>
/// Parses OSV records (schema 1.x, up to 1.7) strictly: bounded size and depth, no duplicate members, valid UTF-8,
/// typed members; every range event has exactly one of <c>introduced</c>, <c>fixed</c>, <c>last_affected</c>,
/// <c>limit</c>. A record that breaks a rule is refused with a <see cref="VulnerabilityDataException"/> naming it.
/// </summary>
public static class OsvParser
{
    /// <summary>Parses one document holding one record (an object) or several (an array of records).</summary>
    public static IReadOnlyList<OsvRecord> Parse(ReadOnlyMemory<byte> utf8, string source, OsvParserOptions? options = null)
    {
        options ??= OsvParserOptions.Default;
        using var document = BoundedJson.Parse(utf8, options.MaxDepth, options.MaxRecordBytes, source);
        var root = document.RootElement;
        if (root.ValueKind == JsonValueKind.Array)
        {
            var records = new List<OsvRecord>();
            var i = 0;
            foreach (var item in root.EnumerateArray())
            {
                records.Add(ParseRecord(item, $"{source}[{i}]", options));
                i++;
            }

            return records;
        }

        return [ParseRecord(root, source, options)];
    }

    internal static OsvRecord ParseRecord(JsonElement root, string source, OsvParserOptions options)
    {
        BoundedJson.RequireObject(root, source);
        var id = BoundedJson.RequireString(root, "id", source);
        if (id.Length is 0 or > 256)
        {
            throw BoundedJson.Invalid(source, "\"id\" must be 1 to 256 characters");
        }

        var where = $"{source} ({id})";
        var modified = ParseTime(BoundedJson.RequireString(root, "modified", where), "modified", where);
        var withdrawnText = BoundedJson.OptionalString(root, "withdrawn", where);
        var affected = new List<OsvAffected>();
        var a = 0;
        foreach (var entry in BoundedJson.OptionalArray(root, "affected", options.MaxAffected, where))
        {
            affected.Add(ParseAffected(entry, $"{where} affected[{a}]", options));
            a++;
        }

        return new OsvRecord
        {
            Id = id,
            Modified = modified,
            Withdrawn = withdrawnText is null ? null : ParseTime(withdrawnText, "withdrawn", where),
            Aliases = BoundedJson.OptionalStringArray(root, "aliases", options.MaxAliases, where),
            Related = BoundedJson.OptionalStringArray(root, "related", options.MaxAliases, where),
            Summary = BoundedJson.OptionalString(root, "summary", where),
            Affected = affected,
            Severity = ParseSeverity(root, where),
        };
    }

    private static OsvAffected ParseAffected(JsonElement entry, string where, OsvParserOptions options)
    {
        BoundedJson.RequireObject(entry, where);
        string? ecosystem = null;
        string? name = null;
        string? purl = null;
        if (entry.TryGetProperty("package", out var package) && package.ValueKind != JsonValueKind.Null)
        {
            BoundedJson.RequireObject(package, $"{where} package");
            ecosystem = BoundedJson.RequireString(package, "ecosystem", $"{where} package");
            name = BoundedJson.RequireString(package, "name", $"{where} package");
            purl = BoundedJson.OptionalString(package, "purl", $"{where} package");
        }

        var ranges = new List<OsvRange>();
        var r = 0;
        foreach (var range in BoundedJson.OptionalArray(entry, "ranges", options.MaxRangesPerAffected, where))
        {
            ranges.Add(ParseRange(range, $"{where} ranges[{r}]", options));
            r++;
        }

        return new OsvAffected
        {
            Ecosystem = ecosystem,
            Name = name,
            Purl = purl,
            Ranges = ranges,
            Versions = BoundedJson.OptionalStringArray(entry, "versions", options.MaxVersionsPerAffected, where),
            Severity = ParseSeverity(entry, where),
        };
    }

    private static OsvRange ParseRange(JsonElement range, string where, OsvParserOptions options)
    {
        BoundedJson.RequireObject(range, where);
        var typeName = BoundedJson.RequireString(range, "type", where);
        var type = typeName switch
        {
            "SEMVER" => OsvRangeType.Semver,
            "ECOSYSTEM" => OsvRangeType.Ecosystem,
            "GIT" => OsvRangeType.Git,
            _ => OsvRangeType.Other,
        };
        if (!range.TryGetProperty("events", out _))
        {
            throw BoundedJson.Invalid(where, "\"events\" is missing");
        }

        var events = new List<OsvEvent>();
        var e = 0;
        foreach (var evt in BoundedJson.OptionalArray(range, "events", options.MaxEventsPerRange, where))
        {
            var at = $"{where} events[{e}]";
            BoundedJson.RequireObject(evt, at);
            OsvEvent? parsed = null;
            foreach (var member in evt.EnumerateObject())
            {
                var kind = member.Name switch
                {
                    "introduced" => OsvEventKind.Introduced,
                    "fixed" => OsvEventKind.Fixed,
                    "last_affected" => OsvEventKind.LastAffected,
                    "limit" => OsvEventKind.Limit,
                    _ => throw BoundedJson.Invalid(at, $"unknown event \"{member.Name}\" (expected introduced, fixed, last_affected or limit)"),
                };
                if (parsed is not null)
                {
                    throw BoundedJson.Invalid(at, "an event must hold exactly one of introduced, fixed, last_affected, limit");
                }

                if (member.Value.ValueKind != JsonValueKind.String)
                {
                    throw BoundedJson.Invalid(at, $"\"{member.Name}\" must be a string");
                }

                parsed = new OsvEvent(kind, member.Value.GetString()!);
            }

            events.Add(parsed ?? throw BoundedJson.Invalid(at, "empty event"));
            e++;
        }

        return new OsvRange { Type = type, TypeName = typeName, Events = events };
    }

    private static List<OsvSeverity> ParseSeverity(JsonElement parent, string where)
    {
        var list = new List<OsvSeverity>();
        var i = 0;
        foreach (var severity in BoundedJson.OptionalArray(parent, "severity", 64, where))
        {
            var at = $"{where} severity[{i}]";
            BoundedJson.RequireObject(severity, at);
            list.Add(new OsvSeverity(BoundedJson.RequireString(severity, "type", at), BoundedJson.RequireString(severity, "score", at)));
            i++;
        }

        return list;
    }

    private static DateTimeOffset ParseTime(string text, string name, string where) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw BoundedJson.Invalid(where, $"\"{name}\" is not an RFC 3339 time: \"{Clip(text)}\"");

    internal static string Clip(string text) => text.Length <= 80 ? text : text[..80] + "...";
}
