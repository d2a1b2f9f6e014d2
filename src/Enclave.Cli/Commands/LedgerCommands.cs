using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Tiles;
using Enclave.Signing.Keys;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave ledger ...</c>: the tamper-evident audit log.</summary>
internal static class LedgerCommands
{
    /// <summary>Most lines read by one <c>append --lines</c> before the backlog is awaited (bounded memory).</summary>
    private const int MaxInFlight = 1024;

    /// <summary>Largest single event read from standard input.</summary>
    private const int MaxEventBytes = 1024 * 1024;

    public static Command Create(CliContext context)
    {
        var ledger = new Command("ledger", "The append-only Merkle log (RFC 9162) with signed C2SP checkpoints that records every action.");
        ledger.Subcommands.Add(Init(context));
        ledger.Subcommands.Add(Append(context));
        ledger.Subcommands.Add(Get(context));
        ledger.Subcommands.Add(CheckpointCommand(context));
        ledger.Subcommands.Add(Prove(context));
        ledger.Subcommands.Add(Consistency(context));
        ledger.Subcommands.Add(Export(context));
        ledger.Subcommands.Add(Verify(context));
        return ledger;
    }

    private static Option<string> DataOption(bool required = true) => new("--data")
    {
        Description = "The data directory (holds enclave.db and keys/).",
        Required = required,
    };

    private static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object for scripts." };

    private static Command Init(CliContext context)
    {
        var data = DataOption();
        var origin = new Option<string>("--origin")
        {
            Description = "The log's name: its checkpoints' origin line and key name, a schema-less URL (default: <host>/enclave-ledger).",
        };
        var pq = new Option<bool>("--post-quantum") { Description = "Also sign checkpoints with ML-DSA-44 (a C2SP tlog-cosignature line)." };
        var json = JsonOption();
        var command = new Command("init", "Create a ledger and its Ed25519 signing key; prints the verifier key an auditor needs.") { data, origin, pq, json };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var dir = result.GetValue(data)!;
            var name = result.GetValue(origin) ?? Enclave.Ledger.Hosting.LedgerServices.DefaultOrigin();
            var keys = SqliteLedger.Initialize(dir, name, result.GetValue(pq), context.Clock);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["origin"] = name,
                    ["verifierKeys"] = new JsonArray([.. keys.Select(k => JsonValue.Create(k))]),
                }).ConfigureAwait(false);
            }
            else
            {
                foreach (var key in keys)
                {
                    await context.Out.WriteLineAsync(key).ConfigureAwait(false);
                }

                await context.Error.WriteLineAsync($"ledger '{name}' created in {dir}; give the verifier key above to auditors").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Append(CliContext context)
    {
        var data = DataOption();
        var type = new Option<string>("--type") { Description = "Event type (e.g. note.added); required when the input lacks one." };
        var lines = new Option<bool>("--lines") { Description = "Read one event per line and append them all (group-committed)." };
        var json = JsonOption();
        var command = new Command("append", "Append an audit event read from standard input; prints its index once it is durable.") { data, type, lines, json };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var defaults = new AuditEventDefaults
            {
                Type = result.GetValue(type),
                Actor = "cli:" + (string.IsNullOrEmpty(Environment.UserName) ? "unknown" : Environment.UserName),
                Subject = "-",
            };
            await using var log = SqliteLedger.Open(new LedgerOptions { DataDirectory = result.GetValue(data)!, Purpose = "enclave ledger append" }, context.Clock);
            if (!result.GetValue(lines))
            {
                var input = await ReadBoundedAsync(context.In, MaxEventBytes, ct).ConfigureAwait(false);
                var evt = AuditEvent.FromJson(Encoding.UTF8.GetBytes(input), defaults with { Time = context.Clock.GetUtcNow() });
                var index = await log.AppendAsync(evt, ct).ConfigureAwait(false);
                await WriteIndexAsync(context, result.GetValue(json), index, null).ConfigureAwait(false);
                return ExitCode.Success;
            }

            // Many lines: keep up to MaxInFlight appends outstanding so they share commits; print acknowledgements in input order.
            var inFlight = new Queue<(long Line, ValueTask<long> Index)>();
            long lineNumber = 0;
            while (await context.In.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                lineNumber++;
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.Length > MaxEventBytes)
                {
                    throw new EnclaveFormatException($"line {lineNumber} is longer than {MaxEventBytes} characters");
                }

                AuditEvent evt;
                try
                {
                    evt = AuditEvent.FromJson(Encoding.UTF8.GetBytes(line), defaults with { Time = context.Clock.GetUtcNow() });
                }
                catch (EnclaveFormatException ex)
                {
                    throw new EnclaveFormatException($"line {lineNumber}: {ex.Message} (earlier lines were appended)", ex);
                }

                inFlight.Enqueue((lineNumber, log.AppendAsync(evt, ct)));
                while (inFlight.Count >= MaxInFlight || (inFlight.Count > 0 && inFlight.Peek().Index.IsCompleted))
                {
                    var (n, task) = inFlight.Dequeue();
                    await WriteIndexAsync(context, result.GetValue(json), await task.ConfigureAwait(false), n).ConfigureAwait(false);
                }
            }

            while (inFlight.Count > 0)
            {
                var (n, task) = inFlight.Dequeue();
                await WriteIndexAsync(context, result.GetValue(json), await task.ConfigureAwait(false), n).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static async Task WriteIndexAsync(CliContext context, bool json, long index, long? line)
    {
        if (json)
        {
            var node = new JsonObject { ["index"] = index };
            if (line is { } n)
            {
                node["line"] = n;
            }

            await CommandRunner.WriteJsonAsync(context, node).ConfigureAwait(false);
        }
        else
        {
            await context.Out.WriteLineAsync(index.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }

        await context.Out.FlushAsync().ConfigureAwait(false);
    }

    private static async Task<string> ReadBoundedAsync(TextReader reader, int maxChars, CancellationToken ct)
    {
        var buffer = new char[maxChars + 1];
        var total = 0;
        int read;
        while (total <= maxChars && (read = await reader.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        return total > maxChars
            ? throw new EnclaveFormatException($"the event on standard input is larger than {maxChars} characters")
            : new string(buffer, 0, total);
    }

    private static Command Get(CliContext context)
    {
        var data = DataOption();
        var index = new Option<long>("--index") { Description = "Entry index (from 0).", Required = true };
        var command = new Command("get", "Print an entry's exact bytes, as hashed into the tree.") { data, index };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, false, async () =>
        {
            using var reader = LedgerReader.Open(result.GetValue(data)!);
            var bytes = reader.ReadEntry(result.GetValue(index));
            await context.Out.FlushAsync(ct).ConfigureAwait(false);
            var stdout = context.OpenStandardOutput();
            await stdout.WriteAsync(bytes, ct).ConfigureAwait(false);
            await stdout.FlushAsync(ct).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command CheckpointCommand(CliContext context)
    {
        var data = DataOption();
        var json = JsonOption();
        var command = new Command("checkpoint", "Publish a signed checkpoint of the whole log and print it (a C2SP signed note). While a server holds the data directory, prints the latest one it published.") { data, json };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var dir = result.GetValue(data)!;
            SignedCheckpoint checkpoint;
            try
            {
                await using var log = SqliteLedger.Open(new LedgerOptions { DataDirectory = dir, Purpose = "enclave ledger checkpoint" }, context.Clock);
                checkpoint = await log.CheckpointAsync(ct).ConfigureAwait(false);
            }
            catch (DataDirectoryLockedException ex)
            {
                using var reader = LedgerReader.Open(dir);
                checkpoint = reader.LatestCheckpoint() ?? throw new LedgerNotFoundException($"no checkpoint published yet, and {ex.Message}", ex);
                await context.Error.WriteLineAsync($"note: {ex.Holder?.ToString() ?? "another process"} holds the data directory; this is the latest checkpoint it published").ConfigureAwait(false);
            }

            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject { ["size"] = checkpoint.Size, ["checkpoint"] = checkpoint.Note }).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteAsync(checkpoint.Note).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Prove(CliContext context)
    {
        var data = DataOption();
        var index = new Option<long>("--index") { Description = "Entry index (from 0).", Required = true };
        var size = new Option<long?>("--size") { Description = "Tree size to prove against (default: the latest checkpoint's)." };
        var tlogProof = new Option<string>("--tlog-proof") { Description = "Also write a C2SP tlog-proof file (index, proof and the signed checkpoint) to this path." };
        var json = JsonOption();
        var command = new Command("prove", "Print the inclusion proof of an entry: base64 hashes, one per line.") { data, index, size, tlogProof, json };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var reader = LedgerReader.Open(result.GetValue(data)!);
            var checkpoint = reader.LatestCheckpoint();
            var treeSize = result.GetValue(size) ?? checkpoint?.Size ?? reader.TreeSize();
            var i = result.GetValue(index);
            var proof = reader.ProveInclusion(i, treeSize);
            if (result.GetValue(tlogProof) is { } path)
            {
                if (checkpoint is null || checkpoint.Size != treeSize)
                {
                    throw new LedgerArgumentException($"a tlog-proof needs a signed checkpoint of size {treeSize}; the latest is {(checkpoint is null ? "none" : checkpoint.Size)}. Leave out --size, or run 'enclave ledger checkpoint' first");
                }

                var text = new TlogProof { Index = i, Proof = proof, SignedCheckpoint = checkpoint.Note }.Format();
                await File.WriteAllTextAsync(path, text).ConfigureAwait(false);
            }

            await WriteProofAsync(context, result.GetValue(json), proof, new JsonObject
            {
                ["index"] = i,
                ["treeSize"] = treeSize,
                ["leafHash"] = Ledger.Merkle.MerkleHash.Leaf(reader.ReadEntry(i)).ToBase64(),
                ["rootHash"] = reader.RootHash(treeSize).ToBase64(),
            }).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Consistency(CliContext context)
    {
        var data = DataOption();
        var from = new Option<long>("--from") { Description = "The older tree size.", Required = true };
        var to = new Option<long>("--to") { Description = "The newer tree size.", Required = true };
        var json = JsonOption();
        var command = new Command("consistency", "Print the consistency proof between two tree sizes: base64 hashes, one per line.") { data, from, to, json };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var reader = LedgerReader.Open(result.GetValue(data)!);
            var (oldSize, newSize) = (result.GetValue(from), result.GetValue(to));
            var proof = reader.ProveConsistency(oldSize, newSize);
            var details = new JsonObject { ["from"] = oldSize, ["to"] = newSize, ["newRootHash"] = reader.RootHash(newSize).ToBase64() };
            if (oldSize > 0)
            {
                details["oldRootHash"] = reader.RootHash(oldSize).ToBase64();
            }

            await WriteProofAsync(context, result.GetValue(json), proof, details).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static async Task WriteProofAsync(CliContext context, bool json, IReadOnlyList<Sha256Digest> proof, JsonObject details)
    {
        if (json)
        {
            details["proof"] = new JsonArray([.. proof.Select(h => JsonValue.Create(h.ToBase64()))]);
            await CommandRunner.WriteJsonAsync(context, details).ConfigureAwait(false);
            return;
        }

        foreach (var hash in proof)
        {
            await context.Out.WriteLineAsync(hash.ToBase64()).ConfigureAwait(false);
        }
    }

    private static Command Export(CliContext context)
    {
        var data = DataOption();
        var output = new Option<string>("--out") { Description = "Directory to write the static files to.", Required = true };
        var json = JsonOption();
        var connection = new AdminConnectionOptions();
        var command = new Command("export", "Write the log as C2SP tlog-tiles static files (checkpoint, tile/, tile/entries/), ready to serve or verify offline. The export is recorded in the ledger (ledger.exported); while a server holds the data directory, through the server with an admin or auditor key.") { data, output, json };
        connection.AddTo(command);
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var reader = LedgerReader.Open(result.GetValue(data)!);
            var exported = ProgressDisplay.Run(context, "Exporting", reader.LatestCheckpoint()?.Size ?? 0, p => reader.Export(result.GetValue(output)!, p));
            var recorded = await RecordExportAsync(result.GetValue(data)!, result.GetValue(output)!, exported.TreeSize, exported.FilesWritten, () => connection.CreateClient(result)).ConfigureAwait(false);
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject
                {
                    ["treeSize"] = exported.TreeSize,
                    ["filesWritten"] = exported.FilesWritten,
                    ["filesKept"] = exported.FilesKept,
                    ["checkpoint"] = exported.Checkpoint,
                    ["recordedIndex"] = recorded.Index,
                }).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"exported {exported.TreeSize} entries to {result.GetValue(output)} ({exported.FilesWritten} files written, {exported.FilesKept} unchanged)").ConfigureAwait(false);
            }

            if (recorded.Problem is { } problem)
            {
                await context.Error.WriteLineAsync(problem).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// Records an export as <c>ledger.exported</c> (actor <c>local:</c> and the operating-system account), appended
    /// through the ledger writer when no server holds the data directory. While a server holds it the entry cannot be
    /// appended from here: the server records it (<c>POST /admin/v1/ledger/exports</c>, actor the key's principal) when
    /// the command has a key; otherwise, or when that fails, the export stands and the problem is returned to be printed.
    /// </summary>
    private static async Task<(long? Index, string? Problem)> RecordExportAsync(string dataDirectory, string output, long treeSize, long filesWritten, Func<AdminApiClient> server)
    {
        if (treeSize == 0)
        {
            return (null, null);
        }

        try
        {
            await using var ledger = SqliteLedger.Open(new LedgerOptions { DataDirectory = dataDirectory, Purpose = "enclave ledger export" }, TimeProvider.System);
            var actor = "local:" + (string.IsNullOrWhiteSpace(Environment.UserName) ? "unknown" : Environment.UserName);
            var index = await ledger.AppendAsync(AuditEvent.Create(TimeProvider.System.GetUtcNow(), actor, $"ledger:0-{treeSize - 1}", new LedgerExportedDetails
            {
                From = 0,
                To = treeSize - 1,
                Entries = treeSize,
                Output = Path.GetFullPath(output),
                FilesWritten = filesWritten,
            })).ConfigureAwait(false);
            return (index, null);
        }
        catch (DataDirectoryLockedException ex)
        {
            return await RecordThroughServerAsync(server, output, treeSize, filesWritten, ex.Message).ConfigureAwait(false);
        }
    }

    private static async Task<(long? Index, string? Problem)> RecordThroughServerAsync(Func<AdminApiClient> server, string output, long treeSize, long filesWritten, string locked)
    {
        const string NotRecorded = "note: the export was not recorded in the ledger (ledger.exported)";
        AdminApiClient client;
        try
        {
            client = server();
        }
        catch (ArgumentException ex)
        {
            return (null, $"{NotRecorded}: {locked}, and the server cannot be asked to record it ({ex.Message}). Pass an admin or auditor key (--api-key-file or ${AdminApiClient.ApiKeyVariable}) to record an export beside a running server.");
        }

        using (client)
        {
            try
            {
                var answer = await client.PostAsync("/ledger/exports", new JsonObject
                {
                    ["to"] = treeSize - 1,
                    ["output"] = Path.GetFullPath(output),
                    ["filesWritten"] = filesWritten,
                }).ConfigureAwait(false);
                return (answer?["ledgerIndex"]?.GetValue<long>(), null);
            }
            catch (AdminApiException ex)
            {
                return (null, $"{NotRecorded}: {locked}, and the server at {client.Server} refused to record it ({ex.Message}).");
            }
        }
    }

    private static Command Verify(CliContext context)
    {
        var keys = new Option<string[]>("--key")
        {
            Description = "Verifier key (name+id+base64), or a file holding one. Repeat for several. Default with --data: the data directory's.",
            AllowMultipleArgumentsPerToken = false,
        };
        var checkpoint = new Option<string>("--checkpoint") { Description = "The signed checkpoint to verify (file). Default with --data: the latest." };
        var from = new Option<string>("--from") { Description = "An older signed checkpoint (file): verify the log only grew since." };
        var proof = new Option<string>("--proof") { Description = "Consistency proof file (from 'ledger consistency') for --from, when no tiles are given." };
        var tiles = new Option<string>("--tiles") { Description = "Exported tiles directory: recompute the root from every tile and entry." };
        var data = DataOption(required: false);
        data.Description = "Verify the data directory's own tiles and entries instead of an export.";
        var json = JsonOption();
        var command = new Command("verify", "Verify a checkpoint's signature, its consistency with an older checkpoint, and the tree from tiles. Needs only public keys.")
        {
            keys, checkpoint, from, proof, tiles, data, json,
        };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var dataDir = result.GetValue(data);
            var tilesDir = result.GetValue(tiles);
            using var reader = dataDir is null ? null : LedgerReader.Open(dataDir);
            var keyList = (result.GetValue(keys) ?? []).Select(ReadKey).ToList();
            if (keyList.Count == 0 && dataDir is not null)
            {
                keyList.AddRange(LedgerKeys.LoadVerifierKeys(dataDir));
            }

            if (keyList.Count == 0)
            {
                throw new ArgumentException("give the log's verifier key with --key");
            }

            var noteBytes = result.GetValue(checkpoint) is { } cpPath
                ? ReadBoundedFile(cpPath)
                : reader?.LatestCheckpoint() is { } latest ? Encoding.UTF8.GetBytes(latest.Note) : throw new ArgumentException("give the checkpoint to verify with --checkpoint");
            var verified = LedgerAuditor.VerifyCheckpoint(noteBytes, keyList);
            var report = new JsonObject { ["origin"] = verified.Origin, ["treeSize"] = verified.Size, ["rootHash"] = verified.RootHash.ToBase64(), ["signature"] = "ok" };

            ITileReader? tileReader = tilesDir is not null ? new DirectoryTileReader(tilesDir) : reader is not null ? reader.OpenTileReader() : null;
            if (result.GetValue(from) is { } fromPath)
            {
                var older = LedgerAuditor.VerifyCheckpoint(ReadBoundedFile(fromPath), keyList, verified.Origin);
                IReadOnlyList<Sha256Digest> consistency;
                if (result.GetValue(proof) is { } proofPath)
                {
                    consistency = LedgerAuditor.ParseProofLines(Encoding.UTF8.GetString(ReadBoundedFile(proofPath)));
                }
                else if (tileReader is not null && older.Size <= verified.Size)
                {
                    consistency = Ledger.Merkle.MerkleProofs.Consistency(older.Size, verified.Size, new TileHashSource(tileReader, verified.Size));
                }
                else
                {
                    throw new ArgumentException("to check --from, give --proof FILE or --tiles DIR");
                }

                LedgerAuditor.VerifyConsistency(older, verified, consistency);
                report["consistentWith"] = older.Size;
            }

            if (tileReader is not null)
            {
                var audit = ProgressDisplay.Run(context, "Verifying tiles", verified.Size, p => LedgerAuditor.VerifyTiles(tileReader, verified, checkEntries: true, p));
                report["tilesRead"] = audit.TilesRead;
                report["entriesChecked"] = audit.EntriesChecked;
            }

            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, report).ConfigureAwait(false);
            }
            else
            {
                var parts = new List<string> { $"checkpoint of '{verified.Origin}' at size {verified.Size} is signed by a trusted key" };
                if (report["consistentWith"] is { } c)
                {
                    parts.Add($"it extends the checkpoint at size {c} (append-only)");
                }

                if (report["entriesChecked"] is { } e)
                {
                    parts.Add($"every tile and all {e} entries reproduce its root {verified.RootHash.ToBase64()}");
                }

                await context.Out.WriteLineAsync("OK: " + string.Join("; ", parts)).ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>A verifier key given inline (<c>name+hex8+base64</c>) or as a file; a missing file is reported as missing, not as a malformed key.</summary>
    private static string ReadKey(string value)
    {
        if (File.Exists(value))
        {
            return Encoding.UTF8.GetString(ReadBoundedFile(value)).Trim();
        }

        var parts = value.Trim().Split('+');
        if (parts.Length >= 3 && parts[1].Length == 8 && parts[1].All(char.IsAsciiHexDigit))
        {
            return value.Trim();
        }

        throw new FileNotFoundException(
            $"verifier key file '{value}' does not exist (nor is it a key written inline as name+id+base64); an enclave's verifier key is DATA/keys/{LedgerKeys.Ed25519VerifierFile}, also printed by 'enclave ledger init'",
            value);
    }

    private static byte[] ReadBoundedFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"file '{path}' does not exist", path);
        }

        return info.Length > TlogProof.MaxSize
            ? throw new EnclaveFormatException($"'{path}' is {info.Length} bytes; the limit is {TlogProof.MaxSize}")
            : File.ReadAllBytes(path);
    }
}
