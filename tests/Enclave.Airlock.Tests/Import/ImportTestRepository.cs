using System.Formats.Tar;
using System.Text;
using Enclave.Airlock.Tests.Bundles;
using Enclave.Airlock.Tests.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Import;

/// <summary>A target of a kind role: its bytes and its <c>custom</c> object (null: none).</summary>
internal sealed record TestTarget(byte[] Content, Dictionary<string, object?>? Custom);

/// <summary>The delegated role of one kind (<c>model</c>, <c>update</c>, ...), as BUNDLE-FORMAT.md lays it out.</summary>
internal sealed class TestKindRole
{
    public List<TestKey> Keys { get; set; } = [TestKey.Ed25519()];

    public int Threshold { get; set; } = 1;

    public int Version { get; set; } = 1;

    public DateTimeOffset Expires { get; set; } = TufTestRepository.Start.AddDays(30);

    public List<string>? Paths { get; set; }

    public Dictionary<string, TestTarget> Targets { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A connected-side TUF repository laid out per BUNDLE-FORMAT.md (top-level targets delegating one terminating role
/// per kind), and the bundles it exports. Mutate fields, <see cref="Publish"/>, then take a <see cref="Bundle"/> and
/// attack its entries.
/// </summary>
internal sealed class ImportTestRepository
{
    public ImportTestRepository()
    {
        Keys["root"] = [TestKey.Ed25519()];
        Keys["timestamp"] = [TestKey.Ecdsa()];
        Keys["snapshot"] = [TestKey.Ed25519()];
        Keys["targets"] = [TestKey.Ed25519()];
        foreach (var role in Keys.Keys)
        {
            Thresholds[role] = 1;
            Versions[role] = 1;
            Expires[role] = TufTestRepository.Start.AddDays(30);
        }

        Expires["root"] = TufTestRepository.Start.AddDays(365);
        PublishRoot();
        Publish();
    }

    public FakeClock Clock { get; } = new(TufTestRepository.Start.AddHours(1));

    public Dictionary<string, List<TestKey>> Keys { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Thresholds { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, int> Versions { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, DateTimeOffset> Expires { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, TestKindRole> Kinds { get; } = new(StringComparer.Ordinal);

    /// <summary>Metadata files by name (<c>root.json</c>, <c>2.root.json</c>, <c>timestamp.json</c>, <c>model.json</c>...).</summary>
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether the snapshot lists lengths and hashes of targets metadata (the timestamp always does).</summary>
    public bool HashesInSnapshot { get; set; }

    /// <summary>Whether the timestamp lists the snapshot's length and hashes.</summary>
    public bool HashesInTimestamp { get; set; } = true;

    public byte[] RootV1 => Files["1.root.json"];

    public TestKindRole Kind(string kind)
    {
        if (!Kinds.TryGetValue(kind, out var role))
        {
            role = new TestKindRole();
            Kinds[kind] = role;
        }

        return role;
    }

    public static Dictionary<string, object?> Custom(string kind, string name, string version, string label, string type, string? task = null)
    {
        var enclave = new Dictionary<string, object?>
        {
            ["kind"] = kind,
            ["name"] = name,
            ["version"] = version,
            ["label"] = label,
            ["type"] = type,
        };
        if (task is not null)
        {
            enclave["task"] = task;
        }

        return new Dictionary<string, object?> { ["enclave"] = enclave };
    }

    /// <summary>
    /// Adds an artifact's targets to its kind role: the content files, and (unless switched off) a CycloneDX SBOM and
    /// an in-toto SLSA provenance statement naming the content files. Call <see cref="Publish"/> afterwards.
    /// </summary>
    public void AddArtifact(
        string kind,
        string name,
        string version,
        IReadOnlyDictionary<string, byte[]> files,
        string label = "UNCLASSIFIED",
        string? task = "chat",
        bool attestations = true)
    {
        var role = Kind(kind);
        var prefix = $"{kind}/{name}/{version}/";
        task = kind == "model" ? task : null;
        foreach (var (relative, content) in files)
        {
            role.Targets[prefix + relative] = new TestTarget(content, Custom(kind, name, version, label, "content", task));
        }

        if (!attestations)
        {
            return;
        }

        var sbom = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["bomFormat"] = "CycloneDX",
            ["specVersion"] = "1.6",
            ["version"] = 1L,
            ["metadata"] = new Dictionary<string, object?>
            {
                ["component"] = new Dictionary<string, object?> { ["type"] = "machine-learning-model", ["name"] = name, ["version"] = version },
            },
        });
        var provenance = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["_type"] = "https://in-toto.io/Statement/v1",
            ["subject"] = files.Select(f => (object?)new Dictionary<string, object?>
            {
                ["name"] = f.Key,
                ["digest"] = new Dictionary<string, object?> { ["sha256"] = Sha256Digest.Compute(f.Value).ToHex() },
            }).ToList(),
            ["predicateType"] = "https://slsa.dev/provenance/v1",
            ["predicate"] = new Dictionary<string, object?>
            {
                ["buildDefinition"] = new Dictionary<string, object?> { ["buildType"] = "https://enclave.example/export/v1", ["externalParameters"] = new Dictionary<string, object?>() },
                ["runDetails"] = new Dictionary<string, object?> { ["builder"] = new Dictionary<string, object?> { ["id"] = "https://enclave.example/builder" } },
            },
        });
        role.Targets[prefix + ".attestations/sbom.cdx.json"] = new TestTarget(sbom, Custom(kind, name, version, label, "sbom", task));
        role.Targets[prefix + ".attestations/provenance.intoto.json"] = new TestTarget(provenance, Custom(kind, name, version, label, "provenance", task));
    }

    /// <summary>A small demo model: model.onnx, tokenizer.json and a nested config file.</summary>
    public static Dictionary<string, byte[]> DemoModelFiles(string seed = "demo") => new(StringComparer.Ordinal)
    {
        ["model.onnx"] = OnnxTestModel.WithOutput("logits", seed),
        ["tokenizer.json"] = Encoding.UTF8.GetBytes("{\"model\":{\"type\":\"BPE\",\"seed\":\"" + seed + "\"}}"),
        ["config/genai_config.json"] = Encoding.UTF8.GetBytes("{\"model\":{\"type\":\"demo\",\"seed\":\"" + seed + "\"}}"),
    };

    public Dictionary<string, object?> RootSigned()
    {
        var signed = TufTestRepository.Common("root", Versions["root"], Expires["root"]);
        var keys = new Dictionary<string, object?>();
        var roles = new Dictionary<string, object?>();
        foreach (var (role, roleKeys) in Keys)
        {
            foreach (var key in roleKeys)
            {
                keys[key.KeyId] = key.KeyObject;
            }

            roles[role] = new Dictionary<string, object?>
            {
                ["keyids"] = roleKeys.Select(k => (object?)k.KeyId).ToList(),
                ["threshold"] = (long)Thresholds[role],
            };
        }

        signed["keys"] = keys;
        signed["roles"] = roles;
        signed["consistent_snapshot"] = false;
        return signed;
    }

    /// <summary>Writes the current root as <c>N.root.json</c> and <c>root.json</c>, signed by <paramref name="signers"/> (default: its own keys).</summary>
    public byte[] PublishRoot(IEnumerable<TestKey>? signers = null)
    {
        var bytes = TufTestRepository.Envelope(RootSigned(), signers ?? Keys["root"]);
        Files[$"{Versions["root"]}.root.json"] = bytes;
        Files["root.json"] = bytes;
        return bytes;
    }

    /// <summary>Rotates root to the next version with new keys for <paramref name="roles"/>, signed by the old and new root keys.</summary>
    public void RotateRoot(params string[] roles)
    {
        var oldRootKeys = Keys["root"].ToList();
        foreach (var role in roles)
        {
            Keys[role] = [TestKey.Ed25519()];
        }

        Versions["root"]++;
        PublishRoot(oldRootKeys.Concat(Keys["root"]).DistinctBy(k => k.KeyId));
    }

    public Dictionary<string, object?> TopTargetsSigned()
    {
        var signed = TufTestRepository.Common("targets", Versions["targets"], Expires["targets"]);
        signed["targets"] = new Dictionary<string, object?>();
        var keys = new Dictionary<string, object?>();
        var roles = new List<object?>();
        foreach (var (kind, role) in Kinds.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            foreach (var key in role.Keys)
            {
                keys[key.KeyId] = key.KeyObject;
            }

            roles.Add(new Dictionary<string, object?>
            {
                ["name"] = kind,
                ["keyids"] = role.Keys.Select(k => (object?)k.KeyId).ToList(),
                ["threshold"] = (long)role.Threshold,
                ["terminating"] = true,
                ["paths"] = (role.Paths ?? [$"{kind}/*", $"{kind}/*/*", $"{kind}/*/*/*", $"{kind}/*/*/*/*"]).Select(p => (object?)p).ToList(),
            });
        }

        signed["delegations"] = new Dictionary<string, object?> { ["keys"] = keys, ["roles"] = roles };
        return signed;
    }

    public Dictionary<string, object?> KindSigned(string kind)
    {
        var role = Kinds[kind];
        var signed = TufTestRepository.Common("targets", role.Version, role.Expires);
        signed["targets"] = role.Targets.ToDictionary(
            t => t.Key,
            t =>
            {
                var entry = TufTestRepository.TargetEntry(t.Value.Content);
                if (t.Value.Custom is not null)
                {
                    entry["custom"] = t.Value.Custom;
                }

                return (object?)entry;
            });
        return signed;
    }

    /// <summary>Signs and writes targets, the kind roles, snapshot and timestamp from the current fields.</summary>
    public void Publish()
    {
        var meta = new Dictionary<string, object?>();
        var targets = TufTestRepository.Envelope(TopTargetsSigned(), Keys["targets"]);
        Files["targets.json"] = targets;
        meta["targets.json"] = TufTestRepository.MetaEntry(Versions["targets"], targets, HashesInSnapshot);
        foreach (var (kind, role) in Kinds)
        {
            var bytes = TufTestRepository.Envelope(KindSigned(kind), role.Keys);
            Files[$"{kind}.json"] = bytes;
            meta[$"{kind}.json"] = TufTestRepository.MetaEntry(role.Version, bytes, HashesInSnapshot);
        }

        var snapshot = TufTestRepository.Common("snapshot", Versions["snapshot"], Expires["snapshot"]);
        snapshot["meta"] = meta;
        Files["snapshot.json"] = TufTestRepository.Envelope(snapshot, Keys["snapshot"]);
        PublishTimestamp();
    }

    /// <summary>Signs and writes a timestamp for the published snapshot (or the version given).</summary>
    public void PublishTimestamp(int? snapshotVersion = null)
    {
        var timestamp = TufTestRepository.Common("timestamp", Versions["timestamp"], Expires["timestamp"]);
        timestamp["meta"] = new Dictionary<string, object?>
        {
            ["snapshot.json"] = TufTestRepository.MetaEntry(snapshotVersion ?? Versions["snapshot"], Files["snapshot.json"], HashesInTimestamp),
        };
        Files["timestamp.json"] = TufTestRepository.Envelope(timestamp, Keys["timestamp"]);
    }

    /// <summary>Re-signs a metadata file after <paramref name="edit"/> changed its signed body.</summary>
    public void Resign(string file, Action<Dictionary<string, object?>> edit, IEnumerable<TestKey> signers)
    {
        var signed = TufTestRepository.Parse(Files[file]);
        edit(signed);
        Files[file] = TufTestRepository.Envelope(signed, signers);
    }

    /// <summary>Advances targets, snapshot and timestamp (and every kind role) one version and republishes.</summary>
    public void NextRelease()
    {
        Versions["targets"]++;
        Versions["snapshot"]++;
        Versions["timestamp"]++;
        foreach (var role in Kinds.Values)
        {
            role.Version++;
        }

        Publish();
    }

    public static byte[] Selector(string kind, string name, string version) => TestJson.Serialize(
        new Dictionary<string, object?> { ["format"] = "enclave-bundle/v1", ["kind"] = kind, ["name"] = name, ["version"] = version },
        indented: false);

    /// <summary>The bundle the connected side exports for one artifact, from the files as published now.</summary>
    public TestBundle Bundle(string kind, string name, string version)
    {
        var bundle = new TestBundle();
        foreach (var root in Files.Keys.Where(f => f.EndsWith(".root.json", StringComparison.Ordinal)).OrderBy(f => int.Parse(f.Split('.')[0], System.Globalization.CultureInfo.InvariantCulture)))
        {
            bundle.Add("metadata/" + root, Files[root]);
        }

        bundle.Add("metadata/root.json", Files["root.json"]);
        foreach (var file in new[] { "timestamp.json", "snapshot.json", "targets.json" })
        {
            bundle.Add("metadata/" + file, Files[file]);
        }

        if (Files.TryGetValue($"{kind}.json", out var kindFile))
        {
            bundle.Add($"metadata/{kind}.json", kindFile);
        }

        bundle.Add("metadata/bundle.json", Selector(kind, name, version));
        var prefix = $"{kind}/{name}/{version}/";
        if (Kinds.TryGetValue(kind, out var role))
        {
            foreach (var (path, target) in role.Targets.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                bundle.Add("targets/" + path, target.Content);
            }
        }

        return bundle;
    }
}

/// <summary>One entry of a test bundle: a regular file, or a hand-made writer for shapes a bundle must not have.</summary>
internal sealed record TestBundleEntry(string Name, byte[] Content, Action<BundleTestArchive>? Write = null);

/// <summary>The entries of a bundle in archive order, to be attacked before <see cref="ToTar"/>.</summary>
internal sealed class TestBundle
{
    public List<TestBundleEntry> Entries { get; } = [];

    public void Add(string name, byte[] content) => Entries.Add(new TestBundleEntry(name, content));

    public byte[] this[string name]
    {
        get => Entries.Single(e => e.Name == name).Content;
        set => Entries[Entries.FindIndex(e => e.Name == name)] = new TestBundleEntry(name, value);
    }

    public void Remove(string name) => Entries.RemoveAll(e => e.Name == name);

    /// <summary>Inserts a hand-made entry just before the first target (or at the end).</summary>
    public void InsertBeforeTargets(TestBundleEntry entry)
    {
        var first = Entries.FindIndex(e => e.Name.StartsWith("targets/", StringComparison.Ordinal));
        Entries.Insert(first < 0 ? Entries.Count : first, entry);
    }

    public IEnumerable<string> TargetNames => Entries.Where(e => e.Name.StartsWith("targets/", StringComparison.Ordinal)).Select(e => e.Name);

    public byte[] ToTar(TarEntryFormat format = TarEntryFormat.Pax)
    {
        var archive = new BundleTestArchive(format);
        foreach (var entry in Entries)
        {
            if (entry.Write is not null)
            {
                entry.Write(archive);
            }
            else
            {
                archive.File(entry.Name, entry.Content, declare: false);
            }
        }

        return archive.ToArray();
    }
}
