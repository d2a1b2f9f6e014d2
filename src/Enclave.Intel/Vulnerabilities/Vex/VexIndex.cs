using Enclave.Intel.Vulnerabilities.Sbom;

namespace Enclave.Intel.Vulnerabilities.Vex;

/// <summary>
/// VEX statements indexed by vulnerability id. A statement applies to a component when it names one of the
/// advisory's ids or aliases and one of its products is the component: the same purl package (type, namespace, name;
/// a product purl without version covers every version, qualifiers are ignored), or the component's SBOM reference
/// (a bom-ref, an SPDXID, or the fragment of a CycloneDX BOM-Link). When several statements apply, the newest
/// (by timestamp; later in the given order on a tie or without timestamps) decides.
/// </summary>
public sealed class VexIndex
{
    private readonly Dictionary<string, List<(VexStatement Statement, int Order)>> _byVulnerability = new(StringComparer.OrdinalIgnoreCase);
    private int _count;

    public int Count => _count;

    public void Add(VexDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        foreach (var statement in document.Statements)
        {
            if (!_byVulnerability.TryGetValue(statement.VulnerabilityId, out var list))
            {
                list = [];
                _byVulnerability[statement.VulnerabilityId] = list;
            }

            list.Add((statement, _count++));
        }
    }

    /// <summary>The deciding statement for this component and any of these vulnerability ids, or null.</summary>
    public VexStatement? Find(SbomComponent component, string version, IEnumerable<string> vulnerabilityIds)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(vulnerabilityIds);
        (VexStatement Statement, int Order)? best = null;
        foreach (var id in vulnerabilityIds)
        {
            if (!_byVulnerability.TryGetValue(id, out var list))
            {
                continue;
            }

            foreach (var candidate in list)
            {
                if (!candidate.Statement.Products.Any(p => Matches(p, component, version)))
                {
                    continue;
                }

                if (best is null || IsNewer(candidate, best.Value))
                {
                    best = candidate;
                }
            }
        }

        return best?.Statement;
    }

    private static bool IsNewer((VexStatement Statement, int Order) a, (VexStatement Statement, int Order) b)
    {
        var ta = a.Statement.Timestamp ?? DateTimeOffset.MinValue;
        var tb = b.Statement.Timestamp ?? DateTimeOffset.MinValue;
        return ta != tb ? ta > tb : a.Order > b.Order;
    }

    internal static bool Matches(string product, SbomComponent component, string version)
    {
        if (product.StartsWith("urn:cdx:", StringComparison.OrdinalIgnoreCase))
        {
            var hash = product.IndexOf('#', StringComparison.Ordinal);
            if (hash < 0)
            {
                return false;
            }

            product = Uri.UnescapeDataString(product[(hash + 1)..]);
        }

        if (product.StartsWith("pkg:", StringComparison.OrdinalIgnoreCase))
        {
            if (component.Purl is null || !PackageUrl.TryParse(product, out var purl, out _))
            {
                return false;
            }

            return string.Equals(purl.Type, component.Purl.Type, StringComparison.Ordinal)
                && string.Equals(purl.Namespace, component.Purl.Namespace, StringComparison.OrdinalIgnoreCase)
                && string.Equals(purl.Name, component.Purl.Name, StringComparison.OrdinalIgnoreCase)
                && (purl.Version is null || string.Equals(purl.Version, version, StringComparison.Ordinal));
        }

        return component.Reference is not null && string.Equals(product, component.Reference, StringComparison.Ordinal);
    }
}
