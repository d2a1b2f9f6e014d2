using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;
using Enclave.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// A real enclave server on a loopback port with a fresh data directory (built by <see cref="EnclaveHost.Create"/>,
/// as the end-to-end fixtures and <c>enclave serve</c> build it), and Debian's Chromium driven by Playwright. One per
/// test class. Chromium is <c>/usr/bin/chromium</c> (or <c>ENCLAVE_CHROMIUM</c>); Playwright never downloads a browser.
/// </summary>
public class ConsoleFixture : IAsyncLifetime
{
    /// <summary>The browser the tests drive: Debian's package (<c>.ci/run</c> installs it).</summary>
    public static readonly string ChromiumPath = Environment.GetEnvironmentVariable("ENCLAVE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private WebApplication? _app;
    private IPlaywright? _playwright;
    private readonly SemaphoreSlim _trustGate = new(1, 1);
    private string? _trustDirectory;
    private string? _trustRoot;

    /// <summary>
    /// Secrets in the configuration the console must never show (the Settings page): by their names (an upstream API
    /// key, a password, a connection string, a header) and by their look (a URL with a password, a PEM block). None is
    /// read by anything the tests use.
    /// </summary>
    public static readonly IReadOnlyList<(string Key, string Secret)> ConfiguredSecrets =
    [
        ("Upstream:ApiKey", "sk-console-secret-upstream-1"),
        ("Retention:ConnectionString", "Data Source=r.db;Password=console-secret-conn-2"),
        ("Notes:Password", "console-secret-password-3"),
        ("Notes:Headers:X-Custom", "console-secret-header-4"),
        ("Notes:Mirror", "https://mirror:console-secret-url-5@mirror.invalid/"),
        ("Notes:Certificate", "-----BEGIN PRIVATE KEY-----console-secret-pem-6"),
    ];

    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("enclave-console-").FullName;

    public string BaseUrl { get; private set; } = string.Empty;

    public string AdminKey { get; private set; } = string.Empty;

    public IBrowser Browser { get; private set; } = null!;

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("the fixture has not started");

    /// <summary>Settings a derived fixture adds or overrides (e.g. single sign-on); read before the server starts.</summary>
    protected virtual Task<IReadOnlyDictionary<string, string?>> MoreSettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string?>>(new Dictionary<string, string?>());

    public virtual async Task InitializeAsync()
    {
        // A test that needs the browser fails (never skips) when it is missing: CI installs it (.ci/run).
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"the console tests need Chromium at {ChromiumPath}: apt-get install -y chromium (or set ENCLAVE_CHROMIUM)");
        }

        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var state = SharedState is { } settings ? EnclaveState.Open(DataDirectory, settings, TimeProvider.System) : null;
        try
        {
            SqliteLedger.Initialize(DataDirectory, "console.example/ledger", postQuantum: false, TimeProvider.System, state);
            AdminKey = new ApiKeyStore(DataDirectory, TimeProvider.System, state: state).Create("console admin", "admin").Key;
        }
        finally
        {
            (state as IDisposable)?.Dispose();
        }

        _app = await StartServerAsync(DataDirectory);
        BaseUrl = _app.Urls.First();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>
    /// The state a derived fixture shares between replicas (PostgreSQL); null: the data directory's SQLite. The ledger
    /// and the admin key are made in it before the server starts.
    /// </summary>
    protected virtual StateSettings? SharedState => null;

    /// <summary>
    /// Starts a server (built by <see cref="EnclaveHost.Create"/>) on a loopback port over <paramref name="dataDirectory"/>,
    /// with the fixture's settings and <see cref="MoreSettingsAsync"/>: the fixture's own, or another replica of it.
    /// </summary>
    protected async Task<WebApplication> StartServerAsync(string dataDirectory)
    {
        var more = await MoreSettingsAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Server:DataDirectory"] = dataDirectory,
            ["Server:Urls:0"] = "http://127.0.0.1:0",
            // A checkpoint signed with every commit, so an entry a test just made is covered by one.
            ["Server:CheckpointInterval"] = "00:00:00",
        }.Concat(ConfiguredSecrets.Select(s => KeyValuePair.Create(s.Key, (string?)s.Secret)))).AddInMemoryCollection(more).Build();
        var app = EnclaveHost.Create(configuration);
        await app.StartAsync();
        return app;
    }

    /// <summary>A fresh browser context (its own cookies: one person) on the enclave.</summary>
    public Task<IBrowserContext> NewContextAsync(bool bypassCsp = false, string? baseUrl = null) => Browser.NewContextAsync(new BrowserNewContextOptions
    {
        BaseURL = baseUrl ?? BaseUrl,
        BypassCSP = bypassCsp,
        ViewportSize = new ViewportSize { Width = 1280, Height = 800 },
    });

    /// <summary>Signs in at /console/signin with <paramref name="key"/> and waits for the overview.</summary>
    public static async Task<IPage> SignInAsync(IBrowserContext context, string key)
    {
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.FillAsync("#key", key);
        await page.ClickAsync("#signin");

        // Waits for the overview without Playwright's 30-second default: a clean-clone CI run on 2 loaded cores once
        // took longer than that to sign in (the same test passed in 16 s alone). This bounds a wait; it times nothing.
        await page.WaitForURLAsync("**/console", new() { Timeout = 120_000 });
        return page;
    }

    /// <summary>Adds a user with <paramref name="roles"/> through the admin API and returns a key of theirs.</summary>
    public async Task<(string Key, string KeyId)> AddUserAsync(string name, params string[] roles)
    {
        using var http = AdminClient();
        using var added = await http.PostAsJsonAsync("/admin/v1/users", new { name, roles });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        using var created = await http.PostAsJsonAsync("/admin/v1/keys", new { user = name, name = name + "-console" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var json = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        return (json["key"]!.GetValue<string>(), json["id"]!.GetValue<string>());
    }

    /// <summary>An HTTP client for the admin API with <paramref name="key"/> (the admin's when null).</summary>
    public HttpClient AdminClient(string? key = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key ?? AdminKey);
        return http;
    }

    /// <summary>
    /// Makes a signed bundle of <paramref name="kind"/> from the files in <paramref name="sources"/> (deleted afterwards)
    /// with this fixture's trust repository (made and pinned through the admin API on first use: one root per enclave)
    /// and imports it through <c>POST /admin/v1/airlock/imports</c> with <paramref name="importerKey"/>. Returns the
    /// import's ID; it waits for approval.
    /// </summary>
    public async Task<string> ImportBundleAsync(string importerKey, string kind, string name, string version, string sources, string? task = null, string? sbom = null, string? provenance = null)
    {
        var bundle = await CreateBundleAsync(kind, name, version, sources, task, sbom, provenance);
        try
        {
            using var http = AdminClient(importerKey);
            using var content = new StreamContent(File.OpenRead(bundle));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
            using var imported = await http.PostAsync("/admin/v1/airlock/imports", content);
            var body = await imported.Content.ReadAsStringAsync();
            Assert.True(imported.IsSuccessStatusCode, body);
            return JsonNode.Parse(body)!["id"]!.GetValue<string>();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bundle)!, recursive: true);
        }
    }

    /// <summary>
    /// Makes a signed bundle of <paramref name="kind"/> from the files in <paramref name="sources"/> (deleted afterwards)
    /// with this fixture's trust repository (made and pinned on first use); returns its path, in a folder of its own the
    /// caller deletes. <paramref name="sbom"/> and <paramref name="provenance"/> (files outside <paramref name="sources"/>)
    /// become the bundle's attestations.
    /// </summary>
    public async Task<string> CreateBundleAsync(string kind, string name, string version, string sources, string? task = null, string? sbom = null, string? provenance = null)
    {
        var root = Directory.CreateTempSubdirectory("enclave-console-bundle-").FullName;
        await _trustGate.WaitAsync();
        try
        {
            using var passphrase = Passphrase.FromString("console test passphrase");
            if (_trustDirectory is null)
            {
                _trustRoot = Directory.CreateTempSubdirectory("enclave-console-trust-").FullName;
                var trust = TrustRepository.Initialize(
                    new TrustInitOptions { Directory = Path.Combine(_trustRoot, "repo"), RootKeys = 1, RootThreshold = 1 },
                    passphrase,
                    TimeProvider.System);
                using var admin = AdminClient();
                using var pinned = await admin.PostAsync("/admin/v1/airlock/trust", new ByteArrayContent(await File.ReadAllBytesAsync(trust.RootPath)));
                Assert.True(pinned.IsSuccessStatusCode, await pinned.Content.ReadAsStringAsync());
                _trustDirectory = trust.Directory;
            }

            var bundle = Path.Combine(root, name + ".tar");
            var created = TrustRepository.Open(_trustDirectory).CreateBundle(
                new BundleCreateOptions { Kind = kind, Name = name, Version = version, Label = "UNCLASSIFIED", Task = task, Sources = [sources], Output = bundle, Sbom = sbom, Provenance = provenance },
                passphrase,
                TimeProvider.System);
            Assert.True(created.IsComplete);
            return bundle;
        }
        finally
        {
            _trustGate.Release();
            Directory.Delete(sources, recursive: true);
        }
    }

    /// <summary>Every audit event so far, read through a read-only reader as an auditor would.</summary>
    public IReadOnlyList<(long Index, AuditEvent Event)> Entries()
    {
        using var reader = LedgerReader.Open(DataDirectory);
        var size = reader.TreeSize();
        var result = new List<(long, AuditEvent)>();
        for (long i = 0; i < size; i++)
        {
            result.Add((i, AuditEvent.Parse(reader.ReadEntry(i))));
        }

        return result;
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(DataDirectory, recursive: true);
        if (_trustRoot is not null)
        {
            Directory.Delete(_trustRoot, recursive: true);
        }
    }
}
