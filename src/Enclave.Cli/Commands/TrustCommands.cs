using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enclave.Airlock.Repository;
using Enclave.Signing.Keys;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave trust ...</c>: the TUF repository on the connected side of the airlock (runs without an enclave).</summary>
internal static class TrustCommands
{
    public static Command Create(CliContext context)
    {
        var trust = new Command("trust", "The TUF repository that signs what crosses the airlock (connected side; needs no enclave). Key passphrase from ENCLAVE_PASSPHRASE, else asked on the terminal.");
        trust.Subcommands.Add(Init(context));
        trust.Subcommands.Add(Rotate(context));
        return trust;
    }

    private static Command Init(CliContext context)
    {
        var output = new Option<string>("--out") { Description = "The repository folder to create (must not exist or be empty).", Required = true };
        var rootKeys = new Option<int>("--root-keys") { Description = "Number of root keys.", Required = true };
        var threshold = new Option<int>("--threshold") { Description = "Root signatures required (of --root-keys).", Required = true };
        var kindKeys = new Option<int>("--kind-keys") { Description = "Keys per artifact kind role (model, update, intel, dataset), for signing by several holders.", DefaultValueFactory = _ => 1 };
        var kindThreshold = new Option<int>("--kind-threshold") { Description = "Signatures each kind role requires (of --kind-keys).", DefaultValueFactory = _ => 1 };
        var keyType = KeyTypeOption();
        var postQuantum = PostQuantumOption("Also create one ML-DSA-65 (FIPS 204) key per role and sign with it everywhere; thresholds stay what the classical keys meet.");
        var expires = new Option<string>("--expires") { Description = "Expiry of root and targets: a duration (365d, 52w, 1y, 12h) or a UTC date (2027-01-31 or 2027-01-31T00:00:00Z). Default 365d." };
        var json = JsonOption();
        var command = new Command("init", "Create a TUF repository: root keys (threshold), keys for targets, snapshot, timestamp and the kind roles, encrypted in DIR/keys; metadata in DIR/metadata.")
        {
            output, rootKeys, threshold, kindKeys, kindThreshold, keyType, postQuantum, expires, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var passphrase = ReadPassphrase(context, confirm: true);
            var created = TrustRepository.Initialize(
                new TrustInitOptions
                {
                    Directory = result.GetValue(output)!,
                    RootKeys = result.GetValue(rootKeys),
                    RootThreshold = result.GetValue(threshold),
                    KindKeys = result.GetValue(kindKeys),
                    KindThreshold = result.GetValue(kindThreshold),
                    KeyType = SigningKeyTypes.Parse(result.GetValue(keyType)!),
                    PostQuantum = result.GetValue(postQuantum),
                    Expires = ParseExpiry(result.GetValue(expires), context.Clock),
                },
                passphrase,
                context.Clock);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["directory"] = created.Directory,
                    ["root"] = created.RootPath,
                    ["rootSha256"] = created.RootSha256,
                    ["rootExpires"] = Iso(created.RootExpires),
                    ["keys"] = KeysJson(created.Keys),
                }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"created TUF repository {created.Directory}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  metadata: {Path.Combine(created.Directory, "metadata")}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  keys (PKCS#8, encrypted with your passphrase): {Path.Combine(created.Directory, "keys")}");
            foreach (var key in created.Keys)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {key.Role,-9} {key.KeyId[..12]}  {Path.GetFileName(key.PrivateKeyPath)}");
            }

            text.AppendLine(CultureInfo.InvariantCulture, $"root to pin in the enclave: {created.RootPath}");
            text.AppendLine(CultureInfo.InvariantCulture, $"  sha256 {created.RootSha256} (compare it out of band), expires {Iso(created.RootExpires)}");
            text.AppendLine("keep the root keys offline: move keys/root-*.pem to separate media, one holder each; bundles need only the other keys");
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Rotate(CliContext context)
    {
        var repo = RepoOption();
        var rootKeys = new Option<int?>("--root-keys") { Description = "Number of new root keys (default: as now)." };
        var threshold = new Option<int?>("--threshold") { Description = "Threshold of the new root (default: as now)." };
        var keyType = KeyTypeOption();
        var postQuantum = PostQuantumOption("Also give the new root one ML-DSA-65 (FIPS 204) key; without it the new root has none.");
        var keys = KeysOption("Old root key files to sign with (repeatable); default: every key in DIR/keys.");
        var expires = new Option<string>("--expires") { Description = "Expiry of the new root (duration or UTC date). Default 365d." };
        var json = JsonOption();
        var command = new Command("rotate", "Make root version N+1 with new root keys, signed by a threshold of the old and of the new root keys (TUF 5.3.4); the chain files stay.")
        {
            repo, rootKeys, threshold, keyType, postQuantum, keys, expires, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var repository = TrustRepository.Open(result.GetValue(repo)!);
            using var passphrase = ReadPassphrase(context, confirm: false);
            var rotated = repository.RotateRoot(
                new RootRotationOptions
                {
                    RootKeys = result.GetValue(rootKeys),
                    RootThreshold = result.GetValue(threshold),
                    KeyType = SigningKeyTypes.Parse(result.GetValue(keyType)!),
                    PostQuantum = result.GetValue(postQuantum),
                    Expires = ParseExpiry(result.GetValue(expires), context.Clock),
                    KeyFiles = KeyFiles(result.GetValue(keys)),
                },
                passphrase,
                context.Clock);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["version"] = rotated.Version,
                    ["root"] = rotated.RootPath,
                    ["expires"] = Iso(rotated.Expires),
                    ["keys"] = KeysJson(rotated.NewKeys),
                    ["retired"] = new JsonArray([.. rotated.RetiredKeyFiles.Select(f => JsonValue.Create(f))]),
                    ["signatures"] = StatusJson(rotated.Signatures),
                }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"root version {rotated.Version} written to {rotated.RootPath} (expires {Iso(rotated.Expires)})");
            AppendStatus(text, rotated.Signatures);
            foreach (var key in rotated.NewKeys)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  new root key {key.KeyId[..12]}  {key.PrivateKeyPath}");
            }

            foreach (var file in rotated.RetiredKeyFiles)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  retired {file}");
            }

            text.AppendLine("enclaves pinned to an older root follow the chain: every bundle carries all root versions");
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    internal static Option<string> RepoOption() => new("--repo") { Description = "The TUF repository folder (from enclave trust init).", Required = true };

    internal static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object for scripts." };

    internal static Option<string[]> KeysOption(string description) => new("--keys") { Description = description };

    private static Option<bool> PostQuantumOption(string description) => new("--post-quantum") { Description = description };

    private static Option<string> KeyTypeOption()
    {
        var option = new Option<string>("--key-type") { Description = "Key algorithm: ed25519, ecdsa-p256 or rsa-pss (RSA 3072).", DefaultValueFactory = _ => "ed25519" };
        option.AcceptOnlyFromAmong([.. SigningKeyTypes.Names]);
        return option;
    }

    /// <summary>Key files from repeated or comma-separated <c>--keys</c> values; null when none were given.</summary>
    internal static IReadOnlyList<string>? KeyFiles(string[]? values) =>
        values is null || values.Length == 0 ? null : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    /// <summary>
    /// The key passphrase: <c>ENCLAVE_PASSPHRASE</c>, else asked on the terminal without echo (twice for new keys).
    /// Never from the command line, where it would show in the process list and shell history.
    /// </summary>
    internal static Passphrase ReadPassphrase(CliContext context, bool confirm)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ENCLAVE_PASSPHRASE");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return Passphrase.FromString(fromEnvironment);
        }

        if (!context.Interactive || Console.IsInputRedirected)
        {
            throw new TrustRepositoryException(TrustRepositoryError.PassphraseRequired, "no key passphrase: set ENCLAVE_PASSPHRASE, or run on a terminal to be asked for it");
        }

        var first = Prompt(confirm ? "passphrase for the new keys: " : "key passphrase: ");
        if (!confirm)
        {
            return first;
        }

        using var second = Prompt("repeat the passphrase: ");
        if (!first.Span.SequenceEqual(second.Span))
        {
            first.Dispose();
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, "the two passphrases differ; nothing was created");
        }

        return first;
    }

    private static Passphrase Prompt(string prompt)
    {
        Console.Error.Write(prompt);
        var buffer = new char[1024];
        var length = 0;
        try
        {
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                {
                    break;
                }

                if (key.Key == ConsoleKey.Backspace)
                {
                    length = Math.Max(0, length - 1);
                }
                else if (!char.IsControl(key.KeyChar) && length < buffer.Length)
                {
                    buffer[length++] = key.KeyChar;
                }
            }

            Console.Error.WriteLine();
            return new Passphrase(buffer.AsSpan(0, length).ToArray());
        }
        finally
        {
            Array.Clear(buffer);
        }
    }

    /// <summary>Parses <c>--expires</c>: a duration (<c>90d</c>, <c>12h</c>, <c>2w</c>, <c>1y</c> = 365 days) or a UTC date.</summary>
    internal static DateTimeOffset? ParseExpiry(string? value, TimeProvider clock)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var match = Regex.Match(value.Trim(), "^([0-9]{1,5})([hdwy])$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        if (match.Success)
        {
            var n = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var span = match.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                "w" => TimeSpan.FromDays(7 * n),
                _ => TimeSpan.FromDays(365 * n),
            };
            return clock.GetUtcNow() + span;
        }

        if (DateTimeOffset.TryParseExact(value.Trim(), ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss'Z'"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date))
        {
            return date;
        }

        throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"--expires \"{value}\" is neither a duration (90d, 12h, 2w, 1y) nor a UTC date (2027-01-31 or 2027-01-31T00:00:00Z)");
    }

    internal static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    internal static JsonArray StatusJson(IReadOnlyList<RoleSignatureStatus> status) => new([.. status.Select(s => (JsonNode)new JsonObject
    {
        ["file"] = s.File,
        ["signedBy"] = s.SignedBy,
        ["version"] = s.Version,
        ["valid"] = s.Valid,
        ["threshold"] = s.Threshold,
        ["complete"] = s.IsComplete,
        ["missingKeyIds"] = new JsonArray([.. s.MissingKeyIds.Select(id => JsonValue.Create(id))]),
    })]);

    internal static void AppendStatus(StringBuilder text, IReadOnlyList<RoleSignatureStatus> status)
    {
        foreach (var s in status)
        {
            var missing = s.IsComplete ? string.Empty : $"  needs {s.Threshold - s.Valid} more, from keys {string.Join(", ", s.MissingKeyIds.Select(id => id[..12]))}";
            text.AppendLine(CultureInfo.InvariantCulture, $"  {s.File,-16} v{s.Version,-4} {s.Valid}/{s.Threshold} signatures by {s.SignedBy}{missing}");
        }
    }

    private static JsonArray KeysJson(IReadOnlyList<RepositoryKeyInfo> keys) => new([.. keys.Select(k => (JsonNode)new JsonObject
    {
        ["role"] = k.Role,
        ["keyId"] = k.KeyId,
        ["type"] = SigningKeyTypes.Name(k.Type),
        ["privateKey"] = k.PrivateKeyPath,
        ["publicKey"] = k.PublicKeyPath,
    })]);
}
