using System.Globalization;
using System.Text.Json;

namespace Enclave.Intel.Vulnerabilities.Vex;

/// <summary>
/// Reads OpenVEX (v0.2.0), CycloneDX VEX (1.4-1.6 <c>vulnerabilities[].analysis</c>) and CSAF 2.0 <c>csaf_vex</c>
/// documents into <see cref="VexStatement"/>s. Strict and bounded like the other vulnerability parsers; a status the
/// format does not define refuses the document.
/// </summary>
public static class VexReader
{
    private const int MaxDepth = 64;
    private const int MaxItems = 1_000_000;

    public static VexDocument Read(string path, long maxBytes = 64L * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(BoundedJson.ReadAll(stream, maxBytes, path), path, maxBytes);
    }

    public static VexDocument Read(ReadOnlyMemory<byte> utf8, string source, long maxBytes = 64L * 1024 * 1024)
    {
        using var document = BoundedJson.Parse(utf8, MaxDepth, maxBytes, source);
        var root = BoundedJson.RequireObject(document.RootElement, source);
        if (root.TryGetProperty("@context", out var context) && context.ValueKind == JsonValueKind.String
            && context.GetString()!.StartsWith("https://openvex.dev/ns", StringComparison.Ordinal))
        {
            return ReadOpenVex(root, source);
        }

        if (root.TryGetProperty("bomFormat", out _))
        {
            return ReadCycloneDx(root, source);
        }

        if (root.TryGetProperty("document", out var doc) && doc.ValueKind == JsonValueKind.Object
            && BoundedJson.OptionalString(doc, "category", source) == "csaf_vex")
        {
            return ReadCsaf(root, source);
        }

        throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"{source}: not an OpenVEX, CycloneDX VEX or CSAF 2.0 csaf_vex document");
    }

    private static VexDocument ReadOpenVex(JsonElement root, string source)
    {
        var documentTime = Time(BoundedJson.OptionalString(root, "timestamp", source));
        var statements = new List<VexStatement>();
        var i = 0;
        foreach (var s in BoundedJson.OptionalArray(root, "statements", MaxItems, source))
        {
            var where = $"{source} statements[{i}]";
            BoundedJson.RequireObject(s, where);
            if (!s.TryGetProperty("vulnerability", out var vulnerability))
            {
                throw BoundedJson.Invalid(where, "\"vulnerability\" is missing");
            }

            var id = BoundedJson.RequireString(BoundedJson.RequireObject(vulnerability, $"{where} vulnerability"), "name", $"{where} vulnerability");
            var products = new List<string>();
            var p = 0;
            foreach (var product in BoundedJson.OptionalArray(s, "products", MaxItems, where))
            {
                var at = $"{where} products[{p}]";
                BoundedJson.RequireObject(product, at);
                var subcomponents = BoundedJson.OptionalArray(product, "subcomponents", MaxItems, at)
                    .Select((c, n) => BoundedJson.RequireString(BoundedJson.RequireObject(c, $"{at} subcomponents[{n}]"), "@id", $"{at} subcomponents[{n}]"))
                    .ToList();
                // A statement about subcomponents of a product is about those subcomponents.
                products.AddRange(subcomponents.Count > 0 ? subcomponents : [BoundedJson.RequireString(product, "@id", at)]);
                p++;
            }

            var status = BoundedJson.RequireString(s, "status", where) switch
            {
                "not_affected" => VexStatus.NotAffected,
                "affected" => VexStatus.Affected,
                "fixed" => VexStatus.Fixed,
                "under_investigation" => VexStatus.UnderInvestigation,
                var other => throw BoundedJson.Invalid(where, $"status \"{other}\" is not an OpenVEX status"),
            };
            statements.Add(new VexStatement
            {
                VulnerabilityId = id,
                Products = products,
                Status = status,
                Justification = BoundedJson.OptionalString(s, "justification", where) ?? BoundedJson.OptionalString(s, "impact_statement", where),
                Timestamp = Time(BoundedJson.OptionalString(s, "timestamp", where)) ?? documentTime,
                Source = source,
            });
            i++;
        }

        return new VexDocument("OpenVEX", statements);
    }

    private static VexDocument ReadCycloneDx(JsonElement root, string source)
    {
        var version = BoundedJson.RequireString(root, "specVersion", source);
        if (version is not ("1.4" or "1.5" or "1.6"))
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"{source}: CycloneDX {version} is not supported for VEX (1.4, 1.5 or 1.6)");
        }

        // bom-refs of this document's own components and subject resolve to their purls where they have one.
        var purls = new Dictionary<string, string>(StringComparer.Ordinal);
        void Collect(JsonElement component)
        {
            if (BoundedJson.OptionalString(component, "bom-ref", source) is { } reference && BoundedJson.OptionalString(component, "purl", source) is { } purl)
            {
                purls.TryAdd(reference, purl);
            }

            foreach (var child in BoundedJson.OptionalArray(component, "components", MaxItems, source))
            {
                Collect(child);
            }
        }

        Collect(root);
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("component", out var subject) && subject.ValueKind == JsonValueKind.Object)
        {
            Collect(subject);
        }

        var statements = new List<VexStatement>();
        var i = 0;
        foreach (var v in BoundedJson.OptionalArray(root, "vulnerabilities", MaxItems, source))
        {
            var where = $"{source} vulnerabilities[{i}]";
            BoundedJson.RequireObject(v, where);
            i++;
            if (!v.TryGetProperty("analysis", out var analysis) || analysis.ValueKind != JsonValueKind.Object)
            {
                continue; // a vulnerability listing without analysis is not a VEX statement
            }

            var state = BoundedJson.OptionalString(analysis, "state", $"{where} analysis");
            if (state is null)
            {
                continue;
            }

            var status = state switch
            {
                "resolved" or "resolved_with_pedigree" => VexStatus.Fixed,
                "exploitable" => VexStatus.Affected,
                "in_triage" => VexStatus.UnderInvestigation,
                "false_positive" or "not_affected" => VexStatus.NotAffected,
                _ => throw BoundedJson.Invalid(where, $"analysis state \"{state}\" is not a CycloneDX impact analysis state"),
            };
            var products = new List<string>();
            var a = 0;
            foreach (var affects in BoundedJson.OptionalArray(v, "affects", MaxItems, where))
            {
                var reference = BoundedJson.RequireString(BoundedJson.RequireObject(affects, $"{where} affects[{a}]"), "ref", $"{where} affects[{a}]");
                products.Add(reference);
                if (purls.TryGetValue(reference, out var purl))
                {
                    products.Add(purl);
                }

                a++;
            }

            statements.Add(new VexStatement
            {
                VulnerabilityId = BoundedJson.RequireString(v, "id", where),
                Products = products,
                Status = status,
                Justification = state == "false_positive" ? "false_positive" : BoundedJson.OptionalString(analysis, "justification", $"{where} analysis"),
                Timestamp = Time(BoundedJson.OptionalString(analysis, "lastUpdated", $"{where} analysis")),
                Source = source,
            });
        }

        return new VexDocument("CycloneDX", statements);
    }

    private static VexDocument ReadCsaf(JsonElement root, string source)
    {
        var purls = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("product_tree", out var tree) && tree.ValueKind == JsonValueKind.Object)
        {
            CollectCsafProducts(tree, purls, source, 0);
            foreach (var relationship in BoundedJson.OptionalArray(tree, "relationships", MaxItems, source))
            {
                if (relationship.TryGetProperty("full_product_name", out var full) && full.ValueKind == JsonValueKind.Object
                    && BoundedJson.OptionalString(full, "product_id", source) is { } id
                    && BoundedJson.OptionalString(relationship, "product_reference", source) is { } reference
                    && purls.TryGetValue(reference, out var purl))
                {
                    purls.TryAdd(id, purl);
                }
            }
        }

        DateTimeOffset? time = null;
        if (root.GetProperty("document").TryGetProperty("tracking", out var tracking) && tracking.ValueKind == JsonValueKind.Object)
        {
            time = Time(BoundedJson.OptionalString(tracking, "current_release_date", source));
        }

        var statements = new List<VexStatement>();
        var i = 0;
        foreach (var v in BoundedJson.OptionalArray(root, "vulnerabilities", MaxItems, source))
        {
            var where = $"{source} vulnerabilities[{i}]";
            BoundedJson.RequireObject(v, where);
            i++;
            var id = BoundedJson.OptionalString(v, "cve", where)
                ?? BoundedJson.OptionalArray(v, "ids", 1_000, where).Select(x => BoundedJson.OptionalString(x, "text", where)).FirstOrDefault(x => x is not null)
                ?? throw BoundedJson.Invalid(where, "neither \"cve\" nor \"ids\" names the vulnerability");
            var justifications = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var flag in BoundedJson.OptionalArray(v, "flags", MaxItems, where))
            {
                var label = BoundedJson.RequireString(flag, "label", where);
                foreach (var product in BoundedJson.OptionalStringArray(flag, "product_ids", MaxItems, where))
                {
                    justifications.TryAdd(product, label);
                }
            }

            if (!v.TryGetProperty("product_status", out var productStatus) || productStatus.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var (member, status) in new[]
            {
                ("known_affected", VexStatus.Affected), ("known_not_affected", VexStatus.NotAffected),
                ("fixed", VexStatus.Fixed), ("first_fixed", VexStatus.Fixed), ("under_investigation", VexStatus.UnderInvestigation),
            })
            {
                foreach (var product in BoundedJson.OptionalStringArray(productStatus, member, MaxItems, $"{where} product_status"))
                {
                    var products = purls.TryGetValue(product, out var purl) ? new[] { product, purl } : [product];
                    statements.Add(new VexStatement
                    {
                        VulnerabilityId = id,
                        Products = products,
                        Status = status,
                        Justification = justifications.GetValueOrDefault(product),
                        Timestamp = time,
                        Source = source,
                    });
                }
            }
        }

        return new VexDocument("CSAF", statements);
    }

    private static void CollectCsafProducts(JsonElement node, Dictionary<string, string> purls, string source, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.TooDeep, $"{source}: product tree nested too deeply");
        }

        void Add(JsonElement product)
        {
            if (product.ValueKind == JsonValueKind.Object
                && BoundedJson.OptionalString(product, "product_id", source) is { } id
                && product.TryGetProperty("product_identification_helper", out var helper) && helper.ValueKind == JsonValueKind.Object
                && BoundedJson.OptionalString(helper, "purl", source) is { } purl)
            {
                purls.TryAdd(id, purl);
            }
        }

        if (node.TryGetProperty("product", out var p))
        {
            Add(p);
        }

        foreach (var full in BoundedJson.OptionalArray(node, "full_product_names", MaxItems, source))
        {
            Add(full);
        }

        foreach (var branch in BoundedJson.OptionalArray(node, "branches", MaxItems, source))
        {
            CollectCsafProducts(branch, purls, source, depth + 1);
        }
    }

    private static DateTimeOffset? Time(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value : null;
}
