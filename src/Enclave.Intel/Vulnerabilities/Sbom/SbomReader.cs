using System.Text.Json;

namespace Enclave.Intel.Vulnerabilities.Sbom;

/// <summary>
/// Reads CycloneDX 1.4-1.6 JSON and SPDX 2.3 JSON into components with purl and version. Strict and bounded (size,
/// depth, duplicate members, UTF-8, component count); refuses other formats and versions with
/// <see cref="VulnerabilityDataRejection.UnsupportedFormat"/>. An invalid purl does not refuse the SBOM: the component
/// is kept with <see cref="SbomComponent.PurlError"/> and reported as unknown by matching.
/// </summary>
public static class SbomReader
{
    private static readonly string[] CycloneDxVersions = ["1.4", "1.5", "1.6"];

    public static SbomDocument Read(string path, SbomReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= SbomReaderOptions.Default;
        using var stream = File.OpenRead(path);
        return Read(BoundedJson.ReadAll(stream, options.MaxBytes, path), path, options);
    }

    public static SbomDocument Read(ReadOnlyMemory<byte> utf8, string source, SbomReaderOptions? options = null)
    {
        options ??= SbomReaderOptions.Default;
        using var document = BoundedJson.Parse(utf8, options.MaxDepth, options.MaxBytes, source);
        var root = BoundedJson.RequireObject(document.RootElement, source);
        if (root.TryGetProperty("bomFormat", out _))
        {
            return ReadCycloneDx(root, source, options);
        }

        if (root.TryGetProperty("spdxVersion", out _))
        {
            return ReadSpdx(root, source, options);
        }

        throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"{source}: neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document");
    }

    private static SbomDocument ReadCycloneDx(JsonElement root, string source, SbomReaderOptions options)
    {
        var format = BoundedJson.RequireString(root, "bomFormat", source);
        var version = BoundedJson.RequireString(root, "specVersion", source);
        if (format != "CycloneDX" || !CycloneDxVersions.Contains(version))
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"{source}: {format} {version} is not supported (CycloneDX 1.4, 1.5 or 1.6)");
        }

        var components = new List<SbomComponent>();
        Walk(root, "components", source, components, options);
        return new SbomDocument { Format = "CycloneDX", SpecVersion = version, Components = components };
    }

    private static void Walk(JsonElement parent, string path, string source, List<SbomComponent> into, SbomReaderOptions options)
    {
        var i = 0;
        foreach (var item in BoundedJson.OptionalArray(parent, "components", options.MaxComponents, $"{source} {path}"))
        {
            var where = $"{source} {path}[{i}]";
            BoundedJson.RequireObject(item, where);
            if (into.Count >= options.MaxComponents)
            {
                throw new VulnerabilityDataException(VulnerabilityDataRejection.TooManyItems, $"{source}: more than {options.MaxComponents} components");
            }

            into.Add(Component(
                BoundedJson.RequireString(item, "name", where),
                BoundedJson.OptionalString(item, "version", where),
                BoundedJson.OptionalString(item, "purl", where),
                BoundedJson.OptionalString(item, "bom-ref", where)));
            Walk(item, $"{path}[{i}].components", source, into, options);
            i++;
        }
    }

    private static SbomDocument ReadSpdx(JsonElement root, string source, SbomReaderOptions options)
    {
        var version = BoundedJson.RequireString(root, "spdxVersion", source);
        if (version != "SPDX-2.3")
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.UnsupportedFormat, $"{source}: {version} is not supported (SPDX-2.3)");
        }

        var components = new List<SbomComponent>();
        var i = 0;
        foreach (var package in BoundedJson.OptionalArray(root, "packages", options.MaxComponents, source))
        {
            var where = $"{source} packages[{i}]";
            BoundedJson.RequireObject(package, where);
            string? purl = null;
            var r = 0;
            foreach (var reference in BoundedJson.OptionalArray(package, "externalRefs", 10_000, where))
            {
                var at = $"{where} externalRefs[{r}]";
                BoundedJson.RequireObject(reference, at);
                if (BoundedJson.RequireString(reference, "referenceType", at) == "purl")
                {
                    var category = BoundedJson.OptionalString(reference, "referenceCategory", at);
                    if (category is not null and not ("PACKAGE-MANAGER" or "PACKAGE_MANAGER"))
                    {
                        throw BoundedJson.Invalid(at, $"a purl reference must have category PACKAGE-MANAGER, found {category}");
                    }

                    purl ??= BoundedJson.RequireString(reference, "referenceLocator", at);
                }

                r++;
            }

            components.Add(Component(
                BoundedJson.RequireString(package, "name", where),
                BoundedJson.OptionalString(package, "versionInfo", where),
                purl,
                BoundedJson.OptionalString(package, "SPDXID", where)));
            i++;
        }

        return new SbomDocument { Format = "SPDX", SpecVersion = "2.3", Components = components };
    }

    private static SbomComponent Component(string name, string? version, string? purl, string? reference)
    {
        if (purl is null)
        {
            return new SbomComponent { Name = name, Version = version, Reference = reference };
        }

        return PackageUrl.TryParse(purl, out var parsed, out var error)
            ? new SbomComponent { Name = name, Version = parsed.Version ?? version, PurlText = purl, Purl = parsed, Reference = reference }
            : new SbomComponent { Name = name, Version = version, PurlText = purl, PurlError = error, Reference = reference };
    }
}
