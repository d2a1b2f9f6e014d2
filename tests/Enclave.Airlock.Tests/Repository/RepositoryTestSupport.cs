using System.Text;
using System.Text.Json;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tests.Repository;

/// <summary>
/// Repositories made once per test run (each init encrypts many keys at 600,000 PBKDF2 rounds); tests work on copies.
/// </summary>
public sealed class TemplateRepositories : IDisposable
{
    public const string Secret = "test passphrase, long enough";

    private readonly string _root = Directory.CreateTempSubdirectory("enclave-repo-templates-").FullName;
    private readonly Lazy<string> _basic;
    private readonly Lazy<string> _multi;
    private readonly Lazy<string> _postQuantum;

    public TemplateRepositories()
    {
        _basic = new(() => Create("basic", rootKeys: 1, rootThreshold: 1, kindKeys: 1, kindThreshold: 1));
        _multi = new(() => Create("multi", rootKeys: 3, rootThreshold: 2, kindKeys: 3, kindThreshold: 2));
        _postQuantum = new(() => Create("post-quantum", rootKeys: 2, rootThreshold: 2, kindKeys: 1, kindThreshold: 1, postQuantum: true));
    }

    /// <summary>One root key, one key per role, thresholds 1.</summary>
    public string Basic => _basic.Value;

    /// <summary>Three root keys (threshold 2), three keys per kind role (threshold 2).</summary>
    public string Multi => _multi.Value;

    /// <summary>Two root keys (threshold 2), one key per other role, plus one ML-DSA-65 key per role (<c>--post-quantum</c>).</summary>
    public string PostQuantum => _postQuantum.Value;

    public static Passphrase Passphrase() => Signing.Keys.Passphrase.FromString(Secret);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Create(string name, int rootKeys, int rootThreshold, int kindKeys, int kindThreshold, bool postQuantum = false)
    {
        using var passphrase = Passphrase();
        return TrustRepository.Initialize(
            new TrustInitOptions { Directory = Path.Combine(_root, name), RootKeys = rootKeys, RootThreshold = rootThreshold, KindKeys = kindKeys, KindThreshold = kindThreshold, PostQuantum = postQuantum },
            passphrase,
            TimeProvider.System).Directory;
    }
}

/// <summary>A scratch folder for one test, with copies of template repositories.</summary>
public abstract class RepositoryTestBase : IDisposable
{
    protected RepositoryTestBase(TemplateRepositories templates) => Templates = templates;

    protected TemplateRepositories Templates { get; }

    protected string Root { get; } = Directory.CreateTempSubdirectory("enclave-repo-test-").FullName;

    public void Dispose()
    {
        Directory.Delete(Root, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string Copy(string template, string name = "repo")
    {
        var target = Path.Combine(Root, name);
        foreach (var file in Directory.EnumerateFiles(template, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(template, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        return target;
    }

    protected string WriteFile(string relative, byte[] content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    protected string WriteFile(string relative, string content) => WriteFile(relative, Encoding.UTF8.GetBytes(content));

    protected static byte[] Pinned(string repository) => File.ReadAllBytes(Path.Combine(repository, "metadata", "1.root.json"));

    protected static string Key(string repository, string name) => Path.Combine(repository, "keys", name + ".pem");

    protected static Dictionary<string, string> Snapshot(string repository) =>
        Directory.EnumerateFiles(repository, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != ".lock")
            .ToDictionary(f => Path.GetRelativePath(repository, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    protected BundleCreateResult Create(string repository, BundleCreateOptions options)
    {
        using var passphrase = TemplateRepositories.Passphrase();
        return TrustRepository.Open(repository).CreateBundle(options, passphrase, TimeProvider.System);
    }

    protected BundleSignResult Sign(string bundle, string keyFile)
    {
        using var passphrase = TemplateRepositories.Passphrase();
        using var key = KeyFile.Read(keyFile, passphrase);
        return BundleSigner.Sign(bundle, key, TimeProvider.System);
    }

    protected BundleCreateOptions Model(string output, params string[] sources) => new()
    {
        Kind = "model",
        Name = "demo-chat",
        Version = "1.0.0",
        Label = "UNCLASSIFIED",
        Task = "chat",
        Sources = sources,
        Output = Path.Combine(Root, output),
    };

    /// <summary>
    /// Imports a bundle the way the enclave does, with the existing reader and verifier only: the bundle's metadata
    /// goes through the TUF client pinned to <paramref name="pinnedRoot"/>, the selector picks verified targets, and
    /// the reader streams exactly those into quarantine with length and hash checks.
    /// </summary>
    protected ImportedBundle Import(string bundlePath, byte[] pinnedRoot, TufUpdaterOptions? options = null)
    {
        Updater? updater = null;
        JsonElement selector = default;
        var verified = new List<TargetFile>();
        var contents = new BundleReader().Read(
            bundlePath,
            metadata =>
            {
                var files = metadata.ToDictionary(m => m.Key["metadata/".Length..], m => m.Value.ToArray(), StringComparer.Ordinal);
                updater = new Updater(TrustedState.FromRoot(pinnedRoot), new InMemoryMetadataSource(files), TimeProvider.System, options);
                updater.Refresh();
                selector = JsonDocument.Parse(files["bundle.json"]).RootElement.Clone();
                Assert.Equal("enclave-bundle/v1", selector.GetProperty("format").GetString());
                var kind = selector.GetProperty("kind").GetString()!;
                var prefix = $"{kind}/{selector.GetProperty("name").GetString()}/{selector.GetProperty("version").GetString()}/";

                // Names come from the (still unverified) kind role; each is then looked up through the verified
                // delegation, and the verified role's own list must agree.
                var listed = TufJson.Parse(files[$"{kind}.json"], 32) is Dictionary<string, object?> doc
                    ? ((Dictionary<string, object?>)((Dictionary<string, object?>)doc["signed"]!)["targets"]!).Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList()
                    : [];
                verified.AddRange(listed.Select(updater.RequireTarget));
                Assert.Equal(
                    updater.Trusted.Delegated[kind].Targets.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal),
                    listed.Order(StringComparer.Ordinal));
                return verified.ToDictionary(
                    t => "targets/" + t.Path,
                    t => new ExpectedEntry { Length = t.Length, Sha256 = t.Sha256!.Value },
                    StringComparer.Ordinal);
            },
            Path.Combine(Root, "enclave-data"));
        return new ImportedBundle(contents, updater!.Trusted, selector, verified);
    }

    protected sealed record ImportedBundle(BundleContents Contents, TrustedState Trusted, JsonElement Selector, IReadOnlyList<TargetFile> Targets)
    {
        public byte[] Content(string targetPath) => File.ReadAllBytes(Contents.Targets.Single(t => t.Name == "targets/" + targetPath).Path);

        public JsonElement Custom(string targetPath) => JsonDocument.Parse(Targets.Single(t => t.Path == targetPath).CustomJson!).RootElement.GetProperty("enclave").Clone();
    }
}

[CollectionDefinition(Name)]
public sealed class RepositoryCollection : ICollectionFixture<TemplateRepositories>
{
    public const string Name = "trust repositories";
}
