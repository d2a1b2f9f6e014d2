using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Enclave.Intel.Vulnerabilities.Sbom;

/// <summary>
/// A package URL (purl spec): <c>pkg:type/namespace/name@version?qualifiers#subpath</c>, components percent-decoded,
/// type lower-cased, qualifier keys lower-cased and unique.
/// </summary>
public sealed record PackageUrl
{
    public const int MaxLength = 4096;

    public required string Type { get; init; }

    public string? Namespace { get; init; }

    public required string Name { get; init; }

    public string? Version { get; init; }

    public IReadOnlyDictionary<string, string> Qualifiers { get; init; } = new Dictionary<string, string>();

    public string? Subpath { get; init; }

    /// <summary>Parses a purl; <paramref name="error"/> says what was wrong when it answers false.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out PackageUrl? purl, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        purl = null;
        if (text.Length > MaxLength)
        {
            error = $"longer than {MaxLength} characters";
            return false;
        }

        if (!text.StartsWith("pkg:", StringComparison.OrdinalIgnoreCase))
        {
            error = "does not start with \"pkg:\"";
            return false;
        }

        var rest = text[4..].TrimStart('/');
        string? subpath = null;
        var hash = rest.IndexOf('#', StringComparison.Ordinal);
        if (hash >= 0)
        {
            subpath = string.Join('/', rest[(hash + 1)..].Split('/').Where(s => s is not ("" or "." or "..")).Select(Decode));
            rest = rest[..hash];
        }

        var qualifiers = new Dictionary<string, string>(StringComparer.Ordinal);
        var question = rest.IndexOf('?', StringComparison.Ordinal);
        if (question >= 0)
        {
            foreach (var pair in rest[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    error = $"qualifier \"{pair}\" is not key=value";
                    return false;
                }

                var key = pair[..eq].ToLowerInvariant();
                var value = Decode(pair[(eq + 1)..]);
                if (!key.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                {
                    error = $"qualifier key \"{key}\" has invalid characters";
                    return false;
                }

                if (value.Length == 0)
                {
                    continue;
                }

                if (!qualifiers.TryAdd(key, value))
                {
                    error = $"qualifier \"{key}\" appears twice";
                    return false;
                }
            }

            rest = rest[..question];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0)
        {
            error = "has no type/name";
            return false;
        }

        var type = rest[..slash].ToLowerInvariant();
        if (!char.IsAsciiLetter(type[0]) || !type.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-'))
        {
            error = $"type \"{type}\" is not valid";
            return false;
        }

        var path = rest[(slash + 1)..].TrimEnd('/');
        string? version = null;
        var at = path.LastIndexOf('@');
        if (at >= 0 && at > path.LastIndexOf('/'))
        {
            version = Decode(path[(at + 1)..]);
            path = path[..at];
            if (version.Length == 0)
            {
                version = null;
            }
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Decode).ToArray();
        if (segments.Length == 0 || segments[^1].Length == 0)
        {
            error = "has no name";
            return false;
        }

        if (segments.Any(s => s is "." or ".."))
        {
            error = "has a \".\" or \"..\" segment";
            return false;
        }

        purl = new PackageUrl
        {
            Type = type,
            Namespace = segments.Length > 1 ? string.Join('/', segments[..^1]) : null,
            Name = segments[^1],
            Version = version,
            Qualifiers = qualifiers,
            Subpath = string.IsNullOrEmpty(subpath) ? null : subpath,
        };
        error = null;
        return true;
    }

    /// <summary>The purl without version, qualifiers and subpath (percent-encoding only where needed).</summary>
    public string ToPackageString()
    {
        var sb = new StringBuilder("pkg:").Append(Type).Append('/');
        if (Namespace is not null)
        {
            foreach (var segment in Namespace.Split('/'))
            {
                sb.Append(Encode(segment)).Append('/');
            }
        }

        return sb.Append(Encode(Name)).ToString();
    }

    private static string Decode(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text);
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    private static string Encode(string text) => Uri.EscapeDataString(text).Replace("%3A", ":", StringComparison.Ordinal);
}
