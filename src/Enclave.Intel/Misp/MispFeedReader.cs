using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Misp;

/// <summary>
/// Reads a MISP feed folder (<c>manifest.json</c>, a map from event UUID to metadata, and one <c>UUID.json</c> per
/// event in MISP feed format <c>{"Event": {...}}</c>). Each attribute with <c>to_ids: true</c> of a mapped type becomes
/// a STIX indicator (id <c>indicator--ATTRIBUTE-UUID</c>, valid from its <c>first_seen</c> or <c>timestamp</c>);
/// deleted attributes become revoked. Same bounds and rejections as STIX bundles.
/// </summary>
public sealed class MispFeedReader
{
    private readonly StixReaderOptions _options;

    public MispFeedReader(StixReaderOptions? options = null) => _options = options ?? StixReaderOptions.Default;

    /// <summary>MISP attribute types mapped to STIX patterns (composite types use the part after the '|' where it is the indicator).</summary>
    public static readonly IReadOnlyList<string> MappedTypes =
    [
        "md5", "sha1", "sha256", "sha512", "filename|md5", "filename|sha1", "filename|sha256", "filename|sha512",
        "ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain", "hostname", "domain|ip", "url", "uri", "link-to-ids",
        "email", "email-src", "email-dst", "filename", "target-user",
    ];

    public MispFeed ReadDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"MISP feed folder {directory} does not exist");
        }

        var manifestPath = Path.Combine(directory, "manifest.json");
        List<string> files;
        string? note = null;
        if (File.Exists(manifestPath))
        {
            using var manifest = Parse(File.ReadAllBytes(manifestPath), "manifest.json");
            if (manifest.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new StixRejectedException(StixRejection.NotABundle, "manifest.json: not an object mapping event UUIDs to metadata");
            }

            files = [];
            foreach (var entry in manifest.RootElement.EnumerateObject())
            {
                if (!Guid.TryParse(entry.Name, out _))
                {
                    throw new StixRejectedException(StixRejection.NotABundle, $"manifest.json: key \"{StixJson.Truncate(entry.Name)}\" is not an event UUID");
                }

                if (files.Count >= _options.MaxObjects)
                {
                    throw new StixRejectedException(StixRejection.TooManyObjects, $"manifest.json lists more than {_options.MaxObjects} events");
                }

                var file = Path.Combine(directory, entry.Name + ".json");
                if (!File.Exists(file))
                {
                    throw new FileNotFoundException($"manifest.json lists event {entry.Name} but {entry.Name}.json is missing", file);
                }

                files.Add(file);
            }
        }
        else
        {
            files = Directory.EnumerateFiles(directory, "*.json").Where(f => Guid.TryParse(Path.GetFileNameWithoutExtension(f), out _)).Order(StringComparer.Ordinal).ToList();
            note = $"no manifest.json in {directory}: read the {files.Count} event file(s) named by UUID instead";
        }

        var indicators = new List<StixIndicator>();
        var skipped = new List<MispSkippedAttribute>();
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            ReadEvent(StixJson.ReadBounded(stream, _options.MaxBytes, Path.GetFileName(file)), Path.GetFileName(file), indicators, skipped);
        }

        return new MispFeed { Events = files.Count, Indicators = indicators, Skipped = skipped, Note = note };
    }

    /// <summary>One event in MISP feed format.</summary>
    public MispFeed ReadEvent(ReadOnlySpan<byte> utf8, string source = "event")
    {
        var indicators = new List<StixIndicator>();
        var skipped = new List<MispSkippedAttribute>();
        ReadEvent(utf8, source, indicators, skipped);
        return new MispFeed { Events = 1, Indicators = indicators, Skipped = skipped };
    }

    private JsonDocument Parse(ReadOnlySpan<byte> utf8, string source)
    {
        if (utf8.Length > _options.MaxBytes)
        {
            throw new StixRejectedException(StixRejection.TooLarge, $"{source} is {utf8.Length} bytes, more than the limit of {_options.MaxBytes}");
        }

        return StixJson.Parse(utf8, _options.MaxDepth, _options.MaxStringLength, source);
    }

    private void ReadEvent(ReadOnlySpan<byte> utf8, string source, List<StixIndicator> indicators, List<MispSkippedAttribute> skipped)
    {
        using var document = Parse(utf8, source);
        if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("Event", out var e) || e.ValueKind != JsonValueKind.Object)
        {
            throw new StixRejectedException(StixRejection.NotABundle, $"{source}: not a MISP event (expected {{\"Event\": {{...}}}})");
        }

        var eventUuid = StixJson.GetString(e, "uuid") ?? Path.GetFileNameWithoutExtension(source);
        var eventTime = UnixTime(e, "timestamp") ?? DateTimeOffset.UnixEpoch;
        var attributes = new List<JsonElement>();
        if (e.TryGetProperty("Attribute", out var list) && list.ValueKind == JsonValueKind.Array)
        {
            attributes.AddRange(list.EnumerateArray());
        }

        if (e.TryGetProperty("Object", out var objects) && objects.ValueKind == JsonValueKind.Array)
        {
            foreach (var obj in objects.EnumerateArray())
            {
                if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("Attribute", out var inner) && inner.ValueKind == JsonValueKind.Array)
                {
                    attributes.AddRange(inner.EnumerateArray());
                }
            }
        }

        if (attributes.Count > _options.MaxObjects)
        {
            throw new StixRejectedException(StixRejection.TooManyObjects, $"{source}: {attributes.Count} attributes, more than the limit of {_options.MaxObjects}");
        }

        foreach (var attribute in attributes)
        {
            var uuid = StixJson.GetString(attribute, "uuid");
            var type = StixJson.GetString(attribute, "type") ?? "(none)";
            var value = StixJson.GetString(attribute, "value");
            if (uuid is null || !Guid.TryParse(uuid, out _) || value is null)
            {
                skipped.Add(new MispSkippedAttribute(eventUuid, uuid, type, "attribute without a UUID or a string value"));
                continue;
            }

            if (!(attribute.TryGetProperty("to_ids", out var toIds) && (toIds.ValueKind == JsonValueKind.True || (toIds.ValueKind == JsonValueKind.String && toIds.GetString() is "1" or "true"))))
            {
                skipped.Add(new MispSkippedAttribute(eventUuid, uuid, type, "to_ids is false: context, not for detection"));
                continue;
            }

            var (pattern, reason) = ToPattern(type, value);
            if (pattern is null)
            {
                skipped.Add(new MispSkippedAttribute(eventUuid, uuid, type, reason!));
                continue;
            }

            var timestamp = UnixTime(attribute, "timestamp") ?? eventTime;
            var firstSeen = Time(attribute, "first_seen");
            var lastSeen = Time(attribute, "last_seen");
            indicators.Add(new StixIndicator
            {
                Id = "indicator--" + uuid.ToLowerInvariant(),
                Name = $"MISP {type} {StixJson.Truncate(value)} (event {eventUuid})",
                Pattern = pattern,
                PatternType = "stix",
                ValidFrom = firstSeen ?? timestamp,
                ValidUntil = lastSeen is { } last && last > (firstSeen ?? timestamp) ? last : null,
                Revoked = attribute.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == JsonValueKind.True,
                Created = timestamp,
                Modified = timestamp,
            });
        }
    }

    internal static (string? Pattern, string? Reason) ToPattern(string type, string value)
    {
        static string Q(string v) => PatternConstant.Quote(v);
        static (string?, string?) Hash(string name, string hex) =>
            hex.Length > 0 && hex.All(char.IsAsciiHexDigit) ? ($"[file:hashes.'{name}' = {Q(hex)}]", null) : (null, $"'{StixJson.Truncate(hex)}' is not a hex digest");
        static (string?, string?) Address(string text)
        {
            var slash = text.IndexOf('/', StringComparison.Ordinal);
            if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var ip))
            {
                return (null, $"'{StixJson.Truncate(text)}' is not an IP address");
            }

            return ($"[{(ip.AddressFamily == AddressFamily.InterNetworkV6 ? "ipv6-addr" : "ipv4-addr")}:value = {Q(text)}]", null);
        }

        var bar = value.IndexOf('|', StringComparison.Ordinal);
        var second = bar >= 0 ? value[(bar + 1)..] : string.Empty;
        var first = bar >= 0 ? value[..bar] : value;
        switch (type)
        {
            case "md5": return Hash("MD5", value);
            case "sha1": return Hash("SHA-1", value);
            case "sha256": return Hash("SHA-256", value);
            case "sha512": return Hash("SHA-512", value);
            case "filename|md5": return Hash("MD5", second);
            case "filename|sha1": return Hash("SHA-1", second);
            case "filename|sha256": return Hash("SHA-256", second);
            case "filename|sha512": return Hash("SHA-512", second);
            case "ip-src" or "ip-dst": return Address(value);
            case "ip-src|port" or "ip-dst|port": return Address(first);
            case "domain" or "hostname": return ($"[domain-name:value = {Q(value)}]", null);
            case "domain|ip":
                var ip = Address(second);
                return ip.Item1 is null ? ip : ($"[domain-name:value = {Q(first)}] OR {ip.Item1}", null);
            case "url" or "uri" or "link-to-ids": return ($"[url:value = {Q(value)}]", null);
            case "email" or "email-src" or "email-dst": return ($"[email-addr:value = {Q(value)}]", null);
            case "filename": return ($"[file:name = {Q(value)}]", null);
            case "target-user": return ($"[user-account:user_id = {Q(value)}]", null);
            default:
                return (null, $"MISP type '{type}' has no STIX pattern mapping in Enclave (mapped: {string.Join(", ", MappedTypes)})");
        }
    }

    private static DateTimeOffset? UnixTime(JsonElement element, string name)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            return null;
        }

        long seconds;
        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            seconds = parsed;
        }
        else if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            seconds = number;
        }
        else
        {
            return null;
        }

        return seconds is >= 0 and < 253402300800 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
    }

    private static DateTimeOffset? Time(JsonElement element, string name)
    {
        var text = StixJson.GetString(element, name);
        return text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value) ? value : UnixTime(element, name);
    }
}
