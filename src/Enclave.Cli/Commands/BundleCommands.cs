using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Enclave.Airlock.Repository;
using Enclave.Signing.Keys;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave bundle ...</c>: write and co-sign airlock bundles on the connected side (needs no enclave).</summary>
internal static class BundleCommands
{
    public static Command Create(CliContext context)
    {
        var bundle = new Command("bundle", "Airlock bundles: one artifact with its TUF metadata, in one tar (connected side; needs no enclave).");
        bundle.Subcommands.Add(CreateCommand(context));
        bundle.Subcommands.Add(Sign(context));
        return bundle;
    }

    private static Command CreateCommand(CliContext context)
    {
        var repo = TrustCommands.RepoOption();
        var kind = new Option<string>("--kind") { Description = "Artifact kind.", Required = true };
        kind.AcceptOnlyFromAmong([.. TrustRepository.Kinds]);
        var name = new Option<string>("--name") { Description = "Artifact name.", Required = true };
        var version = new Option<string>("--version") { Description = "Artifact version.", Required = true };
        var label = new Option<string>("--label") { Description = "Classification label (marking), e.g. UNCLASSIFIED.", Required = true };
        var task = new Option<string>("--task") { Description = "For models: chat or embedding." };
        task.AcceptOnlyFromAmong("chat", "embedding");
        var sbom = new Option<string>("--sbom") { Description = "SBOM: CycloneDX JSON or SPDX JSON." };
        var provenance = new Option<string>("--provenance") { Description = "Provenance: in-toto Statement v1 with a SLSA provenance v1 predicate." };
        var expires = new Option<string>("--expires") { Description = "How long the bundle stays importable (expiry of its kind role, snapshot and timestamp): duration or UTC date. Default 90d." };
        var splitSize = new Option<string>("--split-size") { Description = "Split into parts FILE.000, FILE.001... of this size (e.g. 4G, 700M, 100MiB)." };
        var keys = TrustCommands.KeysOption("Key files to sign with (repeatable or comma-separated); default: every key in DIR/keys. Roles whose keys are missing stay below threshold for enclave bundle sign.");
        var output = new Option<string>("--out") { Description = "The bundle file to write (must not exist).", Required = true };
        var json = TrustCommands.JsonOption();
        var sources = new Argument<string[]>("SOURCE") { Description = "Files and folders of the artifact (a folder's files keep their paths relative to it).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("create", "Publish an artifact in the repository (new version of its kind role, snapshot, timestamp) and write it as a bundle.")
        {
            repo, kind, name, version, label, task, sbom, provenance, expires, splitSize, keys, output, json, sources,
        };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var repository = TrustRepository.Open(result.GetValue(repo)!);
            using var passphrase = TrustCommands.ReadPassphrase(context, confirm: false);
            var options = new BundleCreateOptions
            {
                Kind = result.GetValue(kind)!,
                Name = result.GetValue(name)!,
                Version = result.GetValue(version)!,
                Label = result.GetValue(label)!,
                Task = result.GetValue(task),
                Sources = result.GetValue(sources)!,
                Sbom = result.GetValue(sbom),
                Provenance = result.GetValue(provenance),
                Expires = TrustCommands.ParseExpiry(result.GetValue(expires), context.Clock),
                Output = result.GetValue(output)!,
                SplitSize = ParseSize(result.GetValue(splitSize)),
                KeyFiles = TrustCommands.KeyFiles(result.GetValue(keys)),
            };
            var created = ProgressDisplay.Run(context, "bundling", 2 * SourceBytes(options), progress => repository.CreateBundle(options, passphrase, context.Clock, progress, ct));
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["files"] = new JsonArray([.. created.Files.Select(f => JsonValue.Create(f))]),
                    ["bytes"] = created.Bytes,
                    ["kind"] = options.Kind,
                    ["name"] = options.Name,
                    ["version"] = options.Version,
                    ["roleVersion"] = created.RoleVersion,
                    ["expires"] = TrustCommands.Iso(created.Expires),
                    ["complete"] = created.IsComplete,
                    ["targets"] = new JsonArray([.. created.Targets.Select(t => (JsonNode)new JsonObject
                    {
                        ["path"] = t.Path, ["length"] = t.Length, ["sha256"] = t.Sha256, ["type"] = t.Type,
                    })]),
                    ["signatures"] = TrustCommands.StatusJson(created.Signatures),
                    ["warnings"] = new JsonArray([.. created.Warnings.Select(w => JsonValue.Create(w))]),
                }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            text.AppendLine(CultureInfo.InvariantCulture, $"wrote {options.Kind} {options.Name} {options.Version} [{options.Label}] to {string.Join(", ", created.Files)} ({created.Bytes:N0} bytes, {created.Targets.Count} targets; {options.Kind}.json version {created.RoleVersion}, importable until {TrustCommands.Iso(created.Expires)})");
            foreach (var target in created.Targets)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {target.Sha256[..16]}  {target.Length,14:N0}  {target.Path}");
            }

            TrustCommands.AppendStatus(text, created.Signatures);
            foreach (var warning in created.Warnings)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"warning: {warning}");
            }

            text.AppendLine(created.IsComplete
                ? "complete: every role reaches its threshold; verified with the enclave's TUF client against root 1"
                : $"incomplete: more signatures needed; each key holder runs: enclave bundle sign --key KEYFILE {created.Files[0]}");
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Sign(CliContext context)
    {
        var key = new Option<string>("--key") { Description = "The encrypted key file to sign with.", Required = true };
        var json = TrustCommands.JsonOption();
        var file = new Argument<string>("FILE") { Description = "The bundle (or its first part FILE.000)." };
        var command = new Command("sign", "Add a signature by one key to every role in the bundle that the key is authorised for (threshold signing by several holders; idempotent).")
        {
            key, json, file,
        };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var passphrase = TrustCommands.ReadPassphrase(context, confirm: false);
            using var signingKey = KeyFile.Read(result.GetValue(key)!, passphrase);
            var signed = BundleSigner.Sign(result.GetValue(file)!, signingKey, context.Clock, ct);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["files"] = new JsonArray([.. signed.Files.Select(f => JsonValue.Create(f))]),
                    ["keyId"] = signed.KeyId,
                    ["kind"] = signed.Kind,
                    ["name"] = signed.Name,
                    ["version"] = signed.Version,
                    ["signed"] = new JsonArray([.. signed.SignedFiles.Select(f => JsonValue.Create(f))]),
                    ["unchanged"] = signed.Unchanged,
                    ["complete"] = signed.IsComplete,
                    ["signatures"] = TrustCommands.StatusJson(signed.Signatures),
                }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var text = new StringBuilder();
            var summary = signed.Unchanged
                ? $"key {signed.KeyId[..12]} had already signed {string.Join(", ", signed.SignedFiles)} of {signed.Kind} {signed.Name} {signed.Version}; the bundle is unchanged"
                : $"key {signed.KeyId[..12]} signed {string.Join(", ", signed.SignedFiles)} of {signed.Kind} {signed.Name} {signed.Version} in {string.Join(", ", signed.Files)}";
            text.AppendLine(summary);
            TrustCommands.AppendStatus(text, signed.Signatures);
            text.AppendLine(signed.IsComplete
                ? "complete: every role reaches its threshold; verified with the enclave's TUF client against the bundle's root 1"
                : "incomplete: more signatures needed");
            await context.Out.WriteAsync(text.ToString()).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>Parses a size: bytes, or with K/M/G/T (also KiB...: powers of 1024) or KB/MB/GB/TB (powers of 1000).</summary>
    internal static long? ParseSize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var match = Regex.Match(value.Trim(), "^([0-9]{1,15})\\s*([KMGT]?)(i?B)?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
        if (!match.Success || (match.Groups[2].Length == 0 && match.Groups[3].Value.Length > 1))
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"--split-size \"{value}\" is not a size such as 4G, 700M, 100MiB, 650MB or 1048576");
        }

        var decimalUnit = match.Groups[3].Value.Equals("B", StringComparison.OrdinalIgnoreCase) && match.Groups[2].Length > 0;
        var power = "KMGT".IndexOf(char.ToUpperInvariant(match.Groups[2].Value.FirstOrDefault('_')), StringComparison.Ordinal) + 1;
        var size = long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        for (var i = 0; i < power; i++)
        {
            size = checked(size * (decimalUnit ? 1000 : 1024));
        }

        return size;
    }

    private static long SourceBytes(BundleCreateOptions options)
    {
        long total = 0;
        foreach (var source in options.Sources.Append(options.Sbom).Append(options.Provenance).OfType<string>())
        {
            if (File.Exists(source))
            {
                total += new FileInfo(source).Length;
            }
            else if (Directory.Exists(source))
            {
                total += new DirectoryInfo(source).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            }
        }

        return total;
    }
}
