using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Intel.Stix;
using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Indicators;

/// <summary>
/// One observed value, as an analyst types it (<c>ipv4-addr:value=203.0.113.7</c>, <c>file:hashes.'SHA-256'=ab..</c>)
/// or as Enclave sees it (a request's client address, an import's digest): an object type, a path of keys, a value.
/// </summary>
public sealed record Observable(ObjectPath Path, string Value)
{
    public string ObjectType => Path.ObjectType;

    /// <summary><c>PATH=VALUE</c>; the value may be quoted ('...'); the path follows the pattern grammar (keys only).</summary>
    public static Observable Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = FindEquals(text);
        if (equals <= 0)
        {
            throw new StixPatternException($"observable '{StixJson.Truncate(text)}' is not PATH=VALUE (like ipv4-addr:value=203.0.113.7)");
        }

        var value = text[(equals + 1)..].Trim();
        if (value.Length >= 2 && value[0] == '\'' && value[^1] == '\'')
        {
            value = value[1..^1].Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
        }

        PropertyComparison comparison;
        try
        {
            comparison = StixPattern.Parse($"[{text[..equals].Trim()} = '']").Comparisons.Single();
        }
        catch (StixPatternException ex)
        {
            throw new StixPatternException($"observable '{StixJson.Truncate(text)}': the path before '=' is not an object path like ipv4-addr:value ({ex.Message} of [PATH = ''])", ex);
        }
        if (comparison.Path.Steps.Any(s => s.IsIndex))
        {
            throw new StixPatternException($"observable path {comparison.Path} has a list index; give a whole observation with --observed instead");
        }

        return new Observable(comparison.Path, value);
    }

    private static int FindEquals(string text)
    {
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\'')
            {
                quoted = !quoted;
            }
            else if (text[i] == '=' && !quoted)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>An observation holding one object of <see cref="ObjectType"/> with the value at <see cref="Path"/>.</summary>
    public StixObservedData ToObservation(DateTimeOffset at)
    {
        var root = new JsonObject { ["type"] = ObjectType };
        var node = root;
        for (var i = 0; i < Path.Steps.Count - 1; i++)
        {
            var child = new JsonObject();
            node[Path.Steps[i].Key!] = child;
            node = child;
        }

        node[Path.Steps[^1].Key!] = Value;
        var element = JsonSerializer.SerializeToElement(root);
        return new StixObservedData
        {
            Id = "observed-data--observable",
            FirstObserved = at,
            LastObserved = at,
            Objects = new Dictionary<string, JsonElement>(StringComparer.Ordinal) { ["0"] = element },
        };
    }

    public override string ToString() => $"{Path}={Value}";
}
