using System.CommandLine;
using Enclave.Airlock.Tuf;

namespace Enclave.Cli.Commands;

/// <summary>
/// <c>enclave tuf-client</c>: a plain TUF client over HTTP that implements the tuf-conformance suite's
/// client-under-test CLI (CLIENT-CLI.md) with the airlock's verification core. Exit 0 on success, 1 on any failure.
/// </summary>
internal static class TufClientCommand
{
    /// <summary>
    /// The verification core's options for a general TUF client: key IDs are not required to be hashes of their keys
    /// (python-tuf does not check them; thresholds count distinct keys, so this is safe), a delegated role listing a
    /// target outside its paths is consulted only for its delegated paths (as the specification's lookup does), and
    /// every verified step is persisted even if a later one fails (as the suite expects).
    /// </summary>
    public static TufUpdaterOptions ClientOptions { get; } = TufUpdaterOptions.Default with
    {
        RequireKeyIdMatchesKey = false,
        RejectTargetsOutsideDelegatedPaths = false,
        CommitEachStep = true,
    };

    public static Command Create(CliContext context)
    {
        var metadataDir = new Option<string>("--metadata-dir") { Description = "Directory of the trusted metadata (root.json, timestamp.json, snapshot.json, targets.json, ROLE.json).", Recursive = true };
        var metadataUrl = new Option<string>("--metadata-url") { Description = "Base URL of the repository's metadata.", Recursive = true };
        var targetNames = new Option<string[]>("--target-name") { Description = "Target path to download (repeatable).", Recursive = true };
        var targetBaseUrl = new Option<string>("--target-base-url") { Description = "Base URL of the repository's targets.", Recursive = true };
        var targetDir = new Option<string>("--target-dir") { Description = "Directory to store downloaded targets in (file names are the percent-encoded target paths).", Recursive = true };

        var command = new Command("tuf-client", "A TUF client over HTTP with the airlock's verification core; implements the tuf-conformance client-under-test CLI. Exit 0 on success, 1 on any failure.")
        {
            metadataDir, metadataUrl, targetNames, targetBaseUrl, targetDir,
        };

        var root = new Argument<string>("TRUSTED_ROOT") { Description = "Initial trusted root.json, installed out of band." };
        var init = new Command("init", "Trust TRUSTED_ROOT: it must be signed by a threshold of its own root keys. Makes no request.") { root };
        init.SetAction((result, _) => RunAsync(context, () =>
        {
            var store = new DirectoryTrustedStateStore(CreateDirectory(Required(result, metadataDir)));
            store.Initialize(File.ReadAllBytes(result.GetValue(root)!), ClientOptions);
            return context.Out.WriteLineAsync($"trusted root written to {Path.Combine(store.DirectoryPath, "root.json")}");
        }));

        var refresh = new Command("refresh", "Update the top-level metadata from --metadata-url (TUF client workflow).");
        refresh.SetAction((result, _) => RunAsync(context, async () =>
        {
            using var source = new HttpMetadataSource(Url(result, metadataUrl));
            var updater = OpenUpdater(context, result, metadataDir, source);
            var state = updater.Refresh();
            await context.Out.WriteLineAsync($"refreshed: root {state.Root.Version}, timestamp {state.Timestamp!.Version}, snapshot {state.Snapshot!.Version}, targets {state.Targets!.Version}").ConfigureAwait(false);
        }));

        var download = new Command("download", "Refresh, then download each --target-name from --target-base-url into --target-dir, verified by length and hashes; a file already there with the listed hashes is kept.");
        download.SetAction((result, ct) => RunAsync(context, async () =>
        {
            var names = result.GetValue(targetNames) ?? [];
            if (names.Length == 0)
            {
                throw new ArgumentException("--target-name is required for download");
            }

            var dir = CreateDirectory(Required(result, targetDir));
            using var source = new HttpMetadataSource(Url(result, metadataUrl));
            using var downloader = new HttpTargetDownloader(Url(result, targetBaseUrl));
            var updater = OpenUpdater(context, result, metadataDir, source);
            var state = updater.Refresh();
            foreach (var name in names)
            {
                var target = updater.FindTarget(name)
                    ?? throw new AirlockRejectedException(AirlockRejection.UnknownTarget, $"unknown target: no trusted targets role lists \"{name}\"");
                var path = Path.Combine(dir, HttpTargetDownloader.LocalFileName(name));
                if (HttpTargetDownloader.IsCached(target, path))
                {
                    await context.Out.WriteLineAsync($"{name}: already present at {path}").ConfigureAwait(false);
                    continue;
                }

                await downloader.DownloadAsync(target, state.Root.ConsistentSnapshot, path, ct).ConfigureAwait(false);
                await context.Out.WriteLineAsync($"{name}: downloaded to {path} ({target.Length} bytes, listed by {target.Role})").ConfigureAwait(false);
            }
        }));

        command.Subcommands.Add(init);
        command.Subcommands.Add(refresh);
        command.Subcommands.Add(download);
        return command;
    }

    private static Updater OpenUpdater(CliContext context, ParseResult result, Option<string> metadataDir, ITufMetadataSource source)
    {
        var store = new DirectoryTrustedStateStore(Required(result, metadataDir));
        var trusted = store.Load(ClientOptions, out var ignored);
        foreach (var note in ignored)
        {
            context.Error.WriteLine($"warning: not trusting local {note}");
        }

        return new Updater(trusted, source, context.Clock, ClientOptions, store);
    }

    private static string Required(ParseResult result, Option<string> option) =>
        result.GetValue(option) is { Length: > 0 } value ? value : throw new ArgumentException($"{option.Name} is required");

    private static Uri Url(ParseResult result, Option<string> option)
    {
        var text = Required(result, option);
        return Uri.TryCreate(text, UriKind.Absolute, out var url)
            ? url
            : throw new ArgumentException($"{option.Name} {text} is not an absolute URL");
    }

    private static string CreateDirectory(string path)
    {
        Directory.CreateDirectory(path);
        return path;
    }

    // The conformance protocol knows two outcomes: 0 and 1. Every failure says what and why on standard error.
    private static async Task<int> RunAsync(CliContext context, Func<Task> body)
    {
        string message;
        try
        {
            await body().ConfigureAwait(false);
            return (int)ExitCode.Success;
        }
        catch (AirlockRejectedException e)
        {
            message = $"rejected ({e.Reason}): {e.Detail}";
        }
        catch (OperationCanceledException)
        {
            message = "cancelled";
        }
        catch (Exception e)
        {
            // Any failure at all is exit code 1 (the protocol's contract), with its message rather than a stack trace.
            message = e.Message;
        }

        await context.Error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
        return (int)ExitCode.Failure;
    }
}
