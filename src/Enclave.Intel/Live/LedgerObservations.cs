using System.Net;
using System.Text.Json;
using Enclave.Intel.Indicators;

namespace Enclave.Intel.Live;

/// <summary>
/// What a ledger entry shows that indicators can match, read in one forward pass over its canonical JSON without
/// building a document: imports' digests (<c>import.*</c>: <c>manifest_sha256</c>, targets' <c>sha256</c>), requests'
/// client addresses, <c>user</c> fields and principals (<c>request.admitted</c>, <c>request.denied</c>), and refused
/// credentials' remote addresses (<c>auth.failed</c>).
/// </summary>
public static class LedgerObservations
{
    /// <summary>The kind of value an observation is.</summary>
    public enum Category
    {
        Digest,
        Address,
        User,
        Principal,
    }

    /// <summary>Adds to <paramref name="observations"/> what <paramref name="entry"/> shows; returns the entry's type (null when unreadable).</summary>
    public static string? Read(ReadOnlySpan<byte> entry, List<(Category Category, string Value)> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        var start = observations.Count;
        string? type = null;
        string? actor = null;
        var reader = new Utf8JsonReader(entry, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1)
                {
                    if (reader.ValueTextEquals("type"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        type = reader.GetString();
                    }
                    else if (reader.ValueTextEquals("actor"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                    {
                        actor = reader.GetString();
                    }

                    continue;
                }

                Category category;
                if (reader.ValueTextEquals("sha256"u8) || reader.ValueTextEquals("manifest_sha256"u8))
                {
                    category = Category.Digest;
                }
                else if (reader.ValueTextEquals("clientAddress"u8) || reader.ValueTextEquals("remoteAddress"u8))
                {
                    category = Category.Address;
                }
                else if (reader.ValueTextEquals("user"u8))
                {
                    category = Category.User;
                }
                else
                {
                    continue;
                }

                if (reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    observations.Add((category, reader.GetString()!));
                }
            }
        }
        catch (JsonException)
        {
            observations.RemoveRange(start, observations.Count - start);
            return null;
        }

        // Keep only what the entry's type means: a digest of an import, an address or user of a request.
        var isImport = type is not null && type.StartsWith("import.", StringComparison.Ordinal);
        var isRequest = type is "request.admitted" or "request.denied";
        var isAuth = type is "auth.failed";
        for (var i = observations.Count - 1; i >= start; i--)
        {
            var keep = observations[i].Category switch
            {
                Category.Digest => isImport,
                Category.Address => isRequest || isAuth,
                Category.User => isRequest,
                _ => false,
            };
            if (!keep)
            {
                observations.RemoveAt(i);
            }
        }

        if (isRequest && actor is { Length: > 0 } && actor != "anonymous")
        {
            observations.Add((Category.Principal, actor));
        }

        return type;
    }

    /// <summary>The indexed properties a value of <paramref name="category"/> is looked up under, with the value as looked up.</summary>
    public static IEnumerable<(IndexedProperty Property, string Value)> Lookups(Category category, string value, bool isModel = true)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (category)
        {
            case Category.Digest:
                var hex = value.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? value[7..] : value;
                yield return (IndexedProperty.Sha256, hex);
                yield return (IndexedProperty.ArtifactDigest, hex);
                yield return (IndexedProperty.ArtifactDigest, "sha256:" + hex);
                if (isModel)
                {
                    yield return (IndexedProperty.ModelDigest, hex);
                    yield return (IndexedProperty.ModelDigest, "sha256:" + hex);
                }

                break;
            case Category.Address:
                if (Address(value) is { } address)
                {
                    yield return address;
                }

                break;
            default:
                yield return (IndexedProperty.UserId, value);
                break;
        }
    }

    /// <summary>An address as the index wants it: IPv4 (also when mapped into IPv6) or IPv6; null when not an address.</summary>
    public static (IndexedProperty Property, string Value)? Address(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IPAddress.TryParse(value, out var address))
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? (IndexedProperty.Ipv4, address.ToString())
            : (IndexedProperty.Ipv6, address.ToString());
    }
}
