using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Intel.Vulnerabilities.Findings;

namespace Enclave.Cli.Sbom;

/// <summary>
/// Enclave's own SBOM, CycloneDX 1.6: every NuGet package of the dependency graph the SDK resolved at build (from
/// <c>enclave.deps.json</c>, which the build writes from <c>project.assets.json</c> and ships beside the binary), with
/// its SHA-512 and its dependencies, plus the .NET runtime it runs on. Deterministic: the same build gives the same bytes
/// (no timestamp; the serial number is derived from the content).
/// </summary>
internal static class EnclaveSbomGenerator
{
    /// <summary>The SBOM of this process's binary, or null when its deps.json cannot be found (e.g. a host that is not the CLI).</summary>
    public static EnclaveSbom? Current()
    {
        var deps = AppContext.GetData("APP_CONTEXT_DEPS_FILES") as string;
        var path = deps?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(p => p.EndsWith("enclave.deps.json", StringComparison.OrdinalIgnoreCase))
            ?? Path.Combine(AppContext.BaseDirectory, "enclave.deps.json");
        if (!File.Exists(path))
        {
            return null;
        }

        var version = Version;
        return new EnclaveSbom(version, Generate(File.ReadAllBytes(path), version, Environment.Version.ToString(), RuntimeInformation.RuntimeIdentifier));
    }

    /// <summary>Enclave's version (informational version of the CLI assembly, without source revision).</summary>
    public static string Version
    {
        get
        {
            var info = typeof(EnclaveSbomGenerator).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            var plus = info.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? info : info[..plus];
        }
    }

    /// <summary>CycloneDX 1.6 JSON from a deps.json document.</summary>
    public static byte[] Generate(byte[] depsJson, string version, string runtimeVersion, string runtimeIdentifier)
    {
        using var deps = JsonDocument.Parse(depsJson);
        var root = deps.RootElement;
        var targetName = root.GetProperty("runtimeTarget").GetProperty("name").GetString()!;
        var target = root.GetProperty("targets").GetProperty(targetName);
        var libraries = root.GetProperty("libraries");
        var packages = new SortedDictionary<string, (string Name, string Version, string? Sha512)>(StringComparer.Ordinal);
        var projects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var library in libraries.EnumerateObject())
        {
            var slash = library.Name.IndexOf('/', StringComparison.Ordinal);
            var type = library.Value.TryGetProperty("type", out var t) ? t.GetString() : null;
            if (type == "package")
            {
                var sha = library.Value.TryGetProperty("sha512", out var s) && s.GetString() is { } text && text.StartsWith("sha512-", StringComparison.Ordinal)
                    ? Convert.ToHexStringLower(Convert.FromBase64String(text["sha512-".Length..]))
                    : null;
                packages[library.Name] = (library.Name[..slash], library.Name[(slash + 1)..], sha);
            }
            else
            {
                projects.Add(library.Name[..slash]);
            }
        }

        string Ref(string name, string ver) => $"pkg:nuget/{name}@{ver}";
        var subject = $"pkg:generic/enclave@{version}";
        var components = new JsonArray();
        foreach (var (_, p) in packages)
        {
            var component = new JsonObject
            {
                ["type"] = "library",
                ["bom-ref"] = Ref(p.Name, p.Version),
                ["name"] = p.Name,
                ["version"] = p.Version,
                ["scope"] = "required",
                ["purl"] = Ref(p.Name, p.Version),
            };
            if (p.Sha512 is not null)
            {
                component["hashes"] = new JsonArray(new JsonObject { ["alg"] = "SHA-512", ["content"] = p.Sha512 });
            }

            components.Add(component);
        }

        // The shared frameworks this binary runs on (framework-dependent): their runtime packages carry .NET's advisories.
        var runtimes = new[] { "Microsoft.NETCore.App.Runtime", "Microsoft.AspNetCore.App.Runtime" }
            .Select(n => $"{n}.{runtimeIdentifier}")
            .ToList();
        foreach (var runtime in runtimes)
        {
            components.Add(new JsonObject
            {
                ["type"] = "framework",
                ["bom-ref"] = Ref(runtime, runtimeVersion),
                ["name"] = runtime,
                ["version"] = runtimeVersion,
                ["scope"] = "required",
                ["purl"] = Ref(runtime, runtimeVersion),
            });
        }

        // Dependencies: projects are folded into the subject (they are Enclave), packages keep their own edges.
        var subjectDependsOn = new SortedSet<string>(StringComparer.Ordinal);
        var dependencies = new JsonArray();
        foreach (var entry in target.EnumerateObject())
        {
            var slash = entry.Name.IndexOf('/', StringComparison.Ordinal);
            var name = entry.Name[..slash];
            var on = new SortedSet<string>(StringComparer.Ordinal);
            if (entry.Value.TryGetProperty("dependencies", out var d))
            {
                foreach (var dep in d.EnumerateObject())
                {
                    if (packages.ContainsKey(dep.Name + "/" + dep.Value.GetString()))
                    {
                        on.Add(Ref(dep.Name, dep.Value.GetString()!));
                    }
                }
            }

            if (projects.Contains(name))
            {
                subjectDependsOn.UnionWith(on);
            }
            else if (packages.ContainsKey(entry.Name))
            {
                dependencies.Add(new JsonObject { ["ref"] = Ref(name, entry.Name[(slash + 1)..]), ["dependsOn"] = new JsonArray([.. on.Select(o => (JsonNode)o)]) });
            }
        }

        subjectDependsOn.UnionWith(runtimes.Select(r => Ref(r, runtimeVersion)));
        dependencies.Insert(0, new JsonObject { ["ref"] = subject, ["dependsOn"] = new JsonArray([.. subjectDependsOn.Select(o => (JsonNode)o)]) });
        var body = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["component"] = new JsonObject { ["type"] = "application", ["bom-ref"] = subject, ["name"] = "enclave", ["version"] = version, ["purl"] = subject },
                ["tools"] = new JsonObject { ["components"] = new JsonArray(new JsonObject { ["type"] = "application", ["name"] = "enclave version --sbom", ["version"] = version }) },
            },
            ["components"] = components,
            ["dependencies"] = dependencies,
        };
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(body.ToJsonString()));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // a name-based UUID (version 5 layout) from the content
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        var uuid = new Guid(hash.AsSpan(0, 16), bigEndian: true);
        var bom = new JsonObject
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.6",
            ["serialNumber"] = "urn:uuid:" + uuid.ToString("D"),
            ["version"] = 1,
        };
        foreach (var (key, value) in body.ToList())
        {
            body.Remove(key);
            bom[key] = value;
        }

        return Encoding.UTF8.GetBytes(bom.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
