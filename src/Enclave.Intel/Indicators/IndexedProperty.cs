using Enclave.Intel.Stix.Patterns;

namespace Enclave.Intel.Indicators;

/// <summary>The properties the <see cref="IndicatorIndex"/> answers in O(1) (hash sets) or O(prefix) (CIDR trie, domain suffixes).</summary>
public enum IndexedProperty
{
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    UserId,
    ArtifactDigest,
    ModelDigest,
}

/// <summary>Maps object paths to <see cref="IndexedProperty"/>.</summary>
public static class IndexedProperties
{
    public const int Count = 12;

    public static bool TryGet(ObjectPath path, out IndexedProperty property)
    {
        ArgumentNullException.ThrowIfNull(path);
        property = default;
        var steps = path.Steps;
        if (path.ObjectType == "file" && steps.Count == 2 && steps[0].Key == "hashes" && steps[1].Key is { } algorithm)
        {
            switch (StixPatternEvaluator.HashName(algorithm))
            {
                case "MD5": property = IndexedProperty.Md5; return true;
                case "SHA1": property = IndexedProperty.Sha1; return true;
                case "SHA256": property = IndexedProperty.Sha256; return true;
                case "SHA512": property = IndexedProperty.Sha512; return true;
                default: return false;
            }
        }

        if (steps.Count != 1 || steps[0].Key is not { } key)
        {
            return false;
        }

        (var found, property) = (path.ObjectType, key) switch
        {
            ("ipv4-addr", "value") => (true, IndexedProperty.Ipv4),
            ("ipv6-addr", "value") => (true, IndexedProperty.Ipv6),
            ("domain-name", "value") => (true, IndexedProperty.Domain),
            ("url", "value") => (true, IndexedProperty.Url),
            ("email-addr", "value") => (true, IndexedProperty.Email),
            ("user-account", "user_id") => (true, IndexedProperty.UserId),
            ("x-enclave-artifact", "digest") => (true, IndexedProperty.ArtifactDigest),
            ("x-enclave-model", "digest") => (true, IndexedProperty.ModelDigest),
            _ => (false, default),
        };
        return found;
    }

    /// <summary>Whether values compare ignoring case (hex digests, domain names, e-mail addresses), as the evaluator does.</summary>
    public static bool IgnoresCase(IndexedProperty property) => property is not (IndexedProperty.Url or IndexedProperty.UserId);

    /// <summary>The object type of <paramref name="property"/>.</summary>
    public static string ObjectType(IndexedProperty property) => property switch
    {
        IndexedProperty.Md5 or IndexedProperty.Sha1 or IndexedProperty.Sha256 or IndexedProperty.Sha512 => "file",
        IndexedProperty.Ipv4 => "ipv4-addr",
        IndexedProperty.Ipv6 => "ipv6-addr",
        IndexedProperty.Domain => "domain-name",
        IndexedProperty.Url => "url",
        IndexedProperty.Email => "email-addr",
        IndexedProperty.UserId => "user-account",
        IndexedProperty.ArtifactDigest => "x-enclave-artifact",
        _ => "x-enclave-model",
    };
}
