using System.CommandLine;
using System.Text.Json.Nodes;
using Enclave.Ledger;
using Enclave.State;
using Enclave.State.Migrations;
using Enclave.State.Postgres;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave state migrate --to postgres</c>: moves an enclave's state from its SQLite files into PostgreSQL.</summary>
internal static class StateCommands
{
    /// <summary>The variable the connection string is read from when <c>--connection</c> is not given (as <c>serve</c> reads it).</summary>
    public const string ConnectionVariable = "ENCLAVE__State__ConnectionString";

    public static Command Create(CliContext context)
    {
        var state = new Command("state", "The enclave's state: SQLite files in the data directory, or a PostgreSQL database (State:Provider).");
        state.Subcommands.Add(Migrate(context));
        return state;
    }

    private static Command Migrate(CliContext context)
    {
        var data = new Option<string>("--data") { Description = "The data directory whose enclave.db (and retention.db) are copied; no server may be running on it.", DefaultValueFactory = _ => "./enclave-data" };
        var to = new Option<string>("--to") { Description = "The target engine: postgres.", Required = true };
        to.AcceptOnlyFromAmong("postgres");
        var connection = new Option<string>("--connection") { Description = $"The Npgsql connection string of an empty database (default: {ConnectionVariable}; keep passwords out of command lines: use the variable or a passfile)." };
        var json = new Option<bool>("--json") { Description = "Print the tables and rows copied as JSON." };
        var command = new Command("migrate", "Copy an SQLite enclave into an empty PostgreSQL database: ledger (same root and checkpoints), keys and principals, airlock state, quotas, and everything else.") { data, to, connection, json };
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var directory = result.GetValue(data)!;
            var target = result.GetValue(connection) ?? Environment.GetEnvironmentVariable(ConnectionVariable);
            if (string.IsNullOrWhiteSpace(target))
            {
                throw new ArgumentException($"name the target database with --connection or {ConnectionVariable}");
            }

            var copied = StateTransfer.ToPostgres(directory, target, context.Clock);

            // The log read back from PostgreSQL is the same log: same size and the same signed checkpoint.
            long size;
            string? checkpoint;
            using (var before = LedgerReader.Open(directory))
            using (var postgres = new PostgresConnectionFactory(target))
            using (var after = LedgerReader.Open(directory, postgres))
            {
                size = after.TreeSize();
                checkpoint = after.LatestCheckpoint()?.Note;
                if (size != before.TreeSize() || checkpoint != before.LatestCheckpoint()?.Note)
                {
                    throw new InvalidOperationException($"the ledger read back from PostgreSQL differs from the one in {directory} (size {size} against {before.TreeSize()}); do not serve from it");
                }
            }

            if (result.GetValue(json))
            {
                var tables = new JsonObject();
                foreach (var (database, rows) in copied.Rows)
                {
                    tables[database] = new JsonObject([.. rows.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)r.Value))]);
                }

                await CommandRunner.WriteJsonAsync(context, new JsonObject { ["rows"] = copied.Total, ["ledgerSize"] = size, ["tables"] = tables }).ConfigureAwait(false);
                return ExitCode.Success;
            }

            await context.Out.WriteLineAsync($"copied {copied.Total} rows of {copied.Rows.Values.Sum(t => t.Count)} tables from {directory} into PostgreSQL; the ledger has the same {size} entries and checkpoint").ConfigureAwait(false);
            await context.Out.WriteLineAsync($"serve from it with ENCLAVE__State__Provider=postgres and {ConnectionVariable}, keeping {Path.Combine(directory, "keys")} (the ledger's signing keys); enclave.db is left as it was").ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }
}
