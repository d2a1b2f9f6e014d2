using System.Text.Json;

namespace Enclave.Intel.Stix;

/// <summary>
/// Reads a STIX 2.1 bundle (untrusted) within <see cref="StixReaderOptions"/>: the whole document is rejected for
/// size, encoding, syntax, depth, string length or duplicate keys; a single unusable object is skipped and listed.
/// Unknown object types are kept for context (STIX 2.1 section 11: consumers ignore what they do not understand).
/// </summary>
public sealed class StixBundleReader
{
    /// <summary>The cyber-observable object types of STIX 2.1 section 6 (custom <c>x-</c> SCOs are recognised by their missing <c>created</c>).</summary>
    public static readonly IReadOnlySet<string> ObservableTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file", "ipv4-addr",
        "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    };

    private readonly StixReaderOptions _options;

    public StixBundleReader(StixReaderOptions? options = null) => _options = options ?? StixReaderOptions.Default;

    public StixBundle ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(stream, Path.GetFileName(path));
    }

    public StixBundle Read(Stream stream, string source = "bundle")
    {
        var bytes = StixJson.ReadBounded(stream, _options.MaxBytes, source);
        return Read(bytes, source);
    }

    public StixBundle Read(ReadOnlySpan<byte> utf8, string source = "bundle")
    {
        if (utf8.Length > _options.MaxBytes)
        {
            throw new StixRejectedException(StixRejection.TooLarge, $"{source} is {utf8.Length} bytes, more than the limit of {_options.MaxBytes}");
        }

        using var document = StixJson.Parse(utf8, _options.MaxDepth, _options.MaxStringLength, source);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || StixJson.GetString(root, "type") != "bundle"
            || !root.TryGetProperty("objects", out var objects) || objects.ValueKind != JsonValueKind.Array)
        {
            throw new StixRejectedException(StixRejection.NotABundle, $"{source}: not a STIX bundle (expected an object with \"type\": \"bundle\" and an \"objects\" array)");
        }

        var count = objects.GetArrayLength();
        if (count > _options.MaxObjects)
        {
            throw new StixRejectedException(StixRejection.TooManyObjects, $"{source}: {count} objects, more than the limit of {_options.MaxObjects}");
        }

        var indicators = new Dictionary<string, StixIndicator>(StringComparer.Ordinal);
        var context = new Dictionary<string, StixObject>(StringComparer.Ordinal);
        var observed = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var observables = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var skipped = new List<StixSkippedObject>();
        var order = new List<string>();
        var superseded = 0;
        var index = 0;
        foreach (var element in objects.EnumerateArray())
        {
            var at = index++;
            var type = StixJson.GetString(element, "type");
            var id = StixJson.GetString(element, "id");
            if (element.ValueKind != JsonValueKind.Object || type is null || id is null)
            {
                skipped.Add(new StixSkippedObject(at, id, "not an object with string \"type\" and \"id\""));
                continue;
            }

            if (!id.StartsWith(type + "--", StringComparison.Ordinal))
            {
                skipped.Add(new StixSkippedObject(at, id, $"id does not start with its type \"{type}--\""));
                continue;
            }

            var isObservable = ObservableTypes.Contains(type) || (type.StartsWith("x-", StringComparison.Ordinal) && !element.TryGetProperty("created", out _));
            if (isObservable)
            {
                observables[id] = element.Clone();
                continue;
            }

            // Marking definitions are immutable and carry no "modified" (STIX 2.1 section 7.2.1).
            if (!StixJson.TryGetTimestamp(element, "modified", out var modified) && type != "marking-definition")
            {
                skipped.Add(new StixSkippedObject(at, id, "missing or invalid \"modified\" timestamp"));
                continue;
            }

            if (type == "indicator")
            {
                var (indicator, problem) = ReadIndicator(element, id, modified);
                if (indicator is null)
                {
                    skipped.Add(new StixSkippedObject(at, id, problem!));
                    continue;
                }

                if (indicators.TryGetValue(id, out var existing))
                {
                    superseded++;
                    if (existing.Modified >= indicator.Modified)
                    {
                        continue;
                    }
                }
                else
                {
                    order.Add(id);
                }

                indicators[id] = indicator;
                continue;
            }

            if (context.TryGetValue(id, out var older))
            {
                superseded++;
                if (older.Modified >= modified)
                {
                    continue;
                }
            }

            context[id] = new StixObject
            {
                Type = type,
                Id = id,
                Name = StixJson.GetString(element, "name"),
                Modified = modified,
                SourceRef = StixJson.GetString(element, "source_ref") ?? StixJson.GetString(element, "sighting_of_ref"),
                RelationshipType = StixJson.GetString(element, "relationship_type"),
                TargetRef = StixJson.GetString(element, "target_ref"),
                Json = element.Clone(),
            };
            if (type == "observed-data")
            {
                observed[id] = context[id].Json;
            }
        }

        var observations = new List<StixObservedData>();
        foreach (var (id, element) in observed)
        {
            var (data, problem) = ReadObservedData(element, id, observables);
            if (data is null)
            {
                skipped.Add(new StixSkippedObject(-1, id, problem!));
            }
            else
            {
                observations.Add(data);
            }
        }

        return new StixBundle
        {
            Id = StixJson.GetString(root, "id") ?? "bundle",
            Indicators = order.Select(id => indicators[id]).ToList(),
            ObservedData = observations,
            Context = context.Values.ToList(),
            Observables = observables,
            Skipped = skipped,
            SupersededVersions = superseded,
        };
    }

    private static (StixIndicator? Indicator, string? Problem) ReadIndicator(JsonElement element, string id, DateTimeOffset modified)
    {
        var pattern = StixJson.GetString(element, "pattern");
        if (pattern is null)
        {
            return (null, "indicator without a string \"pattern\"");
        }

        if (!StixJson.TryGetTimestamp(element, "valid_from", out var validFrom))
        {
            return (null, "indicator without a valid \"valid_from\" timestamp");
        }

        DateTimeOffset? validUntil = null;
        if (element.TryGetProperty("valid_until", out _))
        {
            if (!StixJson.TryGetTimestamp(element, "valid_until", out var until))
            {
                return (null, "indicator with an invalid \"valid_until\" timestamp");
            }

            validUntil = until;
        }

        int? confidence = null;
        if (element.TryGetProperty("confidence", out var c))
        {
            if (c.ValueKind != JsonValueKind.Number || !c.TryGetInt32(out var value) || value is < 0 or > 100)
            {
                return (null, "indicator with \"confidence\" outside 0-100");
            }

            confidence = value;
        }

        var revoked = element.TryGetProperty("revoked", out var r) && r.ValueKind == JsonValueKind.True;
        StixJson.TryGetTimestamp(element, "created", out var created);
        return (new StixIndicator
        {
            Id = id,
            Name = StixJson.GetString(element, "name"),
            Pattern = pattern,
            // STIX 2.0 indicators have no pattern_type; their patterns are STIX patterns.
            PatternType = StixJson.GetString(element, "pattern_type") ?? "stix",
            ValidFrom = validFrom,
            ValidUntil = validUntil,
            Revoked = revoked,
            Confidence = confidence,
            Created = created == default ? modified : created,
            Modified = modified,
        }, null);
    }

    private static (StixObservedData? Data, string? Problem) ReadObservedData(JsonElement element, string id, IReadOnlyDictionary<string, JsonElement> observables)
    {
        if (!StixJson.TryGetTimestamp(element, "first_observed", out var first) || !StixJson.TryGetTimestamp(element, "last_observed", out var last))
        {
            return (null, "observed-data without valid first_observed/last_observed");
        }

        var number = element.TryGetProperty("number_observed", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out var v) && v > 0 ? v : 1;
        var objects = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (element.TryGetProperty("objects", out var embedded) && embedded.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in embedded.EnumerateObject())
            {
                objects[property.Name] = property.Value;
            }
        }
        else if (element.TryGetProperty("object_refs", out var refs) && refs.ValueKind == JsonValueKind.Array)
        {
            // STIX 2.1: the observation is the referenced SCOs plus whatever they refer to, transitively, within the bundle.
            var queue = new Queue<string>(refs.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!));
            while (queue.Count > 0 && objects.Count < 10_000)
            {
                var next = queue.Dequeue();
                if (objects.ContainsKey(next) || !observables.TryGetValue(next, out var sco))
                {
                    continue;
                }

                objects[next] = sco;
                foreach (var reference in References(sco))
                {
                    queue.Enqueue(reference);
                }
            }
        }
        else
        {
            return (null, "observed-data with neither \"objects\" nor \"object_refs\"");
        }

        return (new StixObservedData { Id = id, FirstObserved = first, LastObserved = last, NumberObserved = number, Objects = objects }, null);
    }

    private static IEnumerable<string> References(JsonElement sco)
    {
        foreach (var property in sco.EnumerateObject())
        {
            if (property.Name.EndsWith("_ref", StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.String)
            {
                yield return property.Value.GetString()!;
            }
            else if (property.Name.EndsWith("_refs", StringComparison.Ordinal) && property.Value.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in property.Value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String)
                    {
                        yield return item.GetString()!;
                    }
                }
            }
        }
    }
}
