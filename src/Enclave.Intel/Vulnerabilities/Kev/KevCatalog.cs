using System.Globalization;
using System.Text.RegularExpressions;

namespace Enclave.Intel.Vulnerabilities.Kev;

/// <summary>One entry of CISA's Known Exploited Vulnerabilities catalog.</summary>
public sealed record KevEntry(string CveId, DateOnly DateAdded, DateOnly DueDate, string? VendorProject, string? Product, string? KnownRansomwareCampaignUse);

/// <summary>
/// CISA's KEV catalog (JSON feed, schema as published beside it): entries by CVE id. Parsing is strict and bounded;
/// an entry with a malformed <c>cveID</c> or date refuses the whole catalog (it is one signed feed, not a set of records).
/// </summary>
public sealed partial class KevCatalog
{
    private readonly Dictionary<string, KevEntry> _entries;

    private KevCatalog(string catalogVersion, DateTimeOffset? dateReleased, Dictionary<string, KevEntry> entries)
    {
        CatalogVersion = catalogVersion;
        DateReleased = dateReleased;
        _entries = entries;
    }

    public string CatalogVersion { get; }

    public DateTimeOffset? DateReleased { get; }

    public int Count => _entries.Count;

    /// <summary>Every entry, by CVE ID.</summary>
    public IEnumerable<KevEntry> Entries => _entries.Values.OrderBy(e => e.CveId, StringComparer.Ordinal);

    public KevEntry? Find(string cveId) => _entries.TryGetValue(cveId, out var entry) ? entry : null;

    public static KevCatalog Read(string path, long maxBytes = 64L * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(BoundedJson.ReadAll(stream, maxBytes, path), path, maxBytes);
    }

    public static KevCatalog Read(ReadOnlyMemory<byte> utf8, string source, long maxBytes = 64L * 1024 * 1024, int maxEntries = 200_000)
    {
        using var document = BoundedJson.Parse(utf8, 16, maxBytes, source);
        var root = BoundedJson.RequireObject(document.RootElement, source);
        var version = BoundedJson.RequireString(root, "catalogVersion", source);
        var released = BoundedJson.OptionalString(root, "dateReleased", source);
        if (!root.TryGetProperty("vulnerabilities", out _))
        {
            throw BoundedJson.Invalid(source, "\"vulnerabilities\" is missing: not a KEV catalog");
        }

        var entries = new Dictionary<string, KevEntry>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in BoundedJson.OptionalArray(root, "vulnerabilities", maxEntries, source))
        {
            var where = $"{source} vulnerabilities[{i}]";
            BoundedJson.RequireObject(item, where);
            var cve = BoundedJson.RequireString(item, "cveID", where);
            if (!CvePattern().IsMatch(cve))
            {
                throw BoundedJson.Invalid(where, $"\"cveID\" \"{(cve.Length > 40 ? cve[..40] : cve)}\" is not a CVE id");
            }

            var entry = new KevEntry(
                cve,
                Date(BoundedJson.RequireString(item, "dateAdded", where), "dateAdded", where),
                Date(BoundedJson.RequireString(item, "dueDate", where), "dueDate", where),
                BoundedJson.OptionalString(item, "vendorProject", where),
                BoundedJson.OptionalString(item, "product", where),
                BoundedJson.OptionalString(item, "knownRansomwareCampaignUse", where));
            if (!entries.TryAdd(cve, entry))
            {
                throw BoundedJson.Invalid(where, $"{cve} is listed twice");
            }

            i++;
        }

        DateTimeOffset? releasedAt = released is not null && DateTimeOffset.TryParse(released, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var r) ? r : null;
        return new KevCatalog(version, releasedAt, entries);
    }

    /// <summary>A catalog of entries already validated (e.g. stored when a KEV feed was loaded); a later duplicate replaces an earlier one.</summary>
    public static KevCatalog FromEntries(string catalogVersion, IEnumerable<KevEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(catalogVersion);
        ArgumentNullException.ThrowIfNull(entries);
        var byCve = new Dictionary<string, KevEntry>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            byCve[entry.CveId] = entry;
        }

        return new KevCatalog(catalogVersion, null, byCve);
    }

    private static DateOnly Date(string text, string name, string where) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
            ? date
            : throw BoundedJson.Invalid(where, $"\"{name}\" \"{(text.Length > 40 ? text[..40] : text)}\" is not a yyyy-MM-dd date");

    [GeneratedRegex(@"^CVE-\d{4}-\d{4,}$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex CvePattern();
}
