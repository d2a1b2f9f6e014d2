using System.Diagnostics;
using System.Globalization;
using System.Text;
using Enclave.Ledger;
using Enclave.State;
using Npgsql;

namespace Enclave.Bench.Ledger;

/// <summary>
/// Durable appends/s on PostgreSQL with 1, 2 and 3 replicas: N ledger writers (own data directories, the same keys,
/// their own connection pools) on one fresh database, 256 writers in all spread over them, each a closed loop of
/// <c>AppendAsync</c>. One replica holds the checkpoint signer lease; the others append without signing. Acknowledged
/// appends are counted inside the measured window; latency from call to acknowledgement. Since an append is
/// acknowledged once sequenced and integrated into the tree afterwards, the tree's growth in the window (integrated/s)
/// and how far it is behind at the window's end are reported beside it: a sequencing rate the integrator does not keep
/// up with would show as a growing backlog.
/// </summary>
internal static class ClusterAppendBenchmark
{
    public static async Task<string> RunAsync(string maintenanceConnection, IReadOnlyList<int> replicaCounts, int writers, TimeSpan warmup, TimeSpan duration, string scratch)
    {
        var report = new StringBuilder();
        report.AppendLine("| replicas | writers | appends/s | p50 ms | p99 ms | max ms | integrated/s | behind at end |");
        report.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var replicas in replicaCounts)
        {
            var database = $"enclave_bench_{replicas}_{Guid.NewGuid():N}"[..40];
            Execute(maintenanceConnection, $"CREATE DATABASE {database}");
            var connection = new NpgsqlConnectionStringBuilder(maintenanceConnection) { Database = database, MaxPoolSize = 20 }.ConnectionString;
            var root = Directory.CreateDirectory(Path.Combine(scratch, $"enclave-bench-cluster-{Guid.NewGuid():N}")).FullName;
            try
            {
                var row = await RunOnceAsync(connection, replicas, writers, warmup, duration, root).ConfigureAwait(false);
                report.AppendLine(row);
                await Console.Error.WriteLineAsync($"{replicas} replica(s): {row}").ConfigureAwait(false);
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                Execute(maintenanceConnection, $"DROP DATABASE {database} WITH (FORCE)");
                Directory.Delete(root, recursive: true);
            }
        }

        return report.ToString();
    }

    private static async Task<string> RunOnceAsync(string connection, int replicas, int writers, TimeSpan warmup, TimeSpan duration, string root)
    {
        var states = new List<StateConnectionFactory>();
        var ledgers = new List<SqliteLedger>();
        try
        {
            for (var i = 0; i < replicas; i++)
            {
                var directory = Path.Combine(root, $"replica-{i}");
                Directory.CreateDirectory(directory);
                var state = EnclaveState.Open(directory, new StateSettings { Provider = StateProvider.Postgres, ConnectionString = connection }, TimeProvider.System);
                states.Add(state);
                if (i == 0)
                {
                    SqliteLedger.Initialize(directory, "bench.example/cluster", postQuantum: false, TimeProvider.System, state);
                }
                else
                {
                    foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "replica-0", "keys"), "*", SearchOption.AllDirectories))
                    {
                        var target = Path.Combine(directory, "keys", Path.GetRelativePath(Path.Combine(root, "replica-0", "keys"), file));
                        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                        File.Copy(file, target);
                    }
                }

                ledgers.Add(SqliteLedger.Open(new LedgerOptions { DataDirectory = directory, State = state }, TimeProvider.System));
            }

            var clock = Stopwatch.StartNew();
            var measureFrom = warmup;
            var measureTo = warmup + duration;
            var latencies = new List<double>[writers];
            var counts = new long[writers];
            using var reader = LedgerReader.Open(Path.Combine(root, "replica-0"), states[0]);
            var tree = Task.Run(async () =>
            {
                await Task.Delay(measureFrom - clock.Elapsed > TimeSpan.Zero ? measureFrom - clock.Elapsed : TimeSpan.Zero).ConfigureAwait(false);
                var first = reader.TreeSize();
                await Task.Delay(measureTo - clock.Elapsed > TimeSpan.Zero ? measureTo - clock.Elapsed : TimeSpan.Zero).ConfigureAwait(false);
                var last = reader.TreeSize();
                return (Integrated: last - first, Behind: reader.SequencedSize() - last);
            });
            var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
            {
                var ledger = ledgers[w % ledgers.Count];
                var events = new BenchEvents(64, w, TimeProvider.System);
                var mine = latencies[w] = new List<double>(1 << 14);
                while (clock.Elapsed < measureTo)
                {
                    var started = clock.Elapsed;
                    await ledger.AppendAsync(events.Next()).ConfigureAwait(false);
                    var ended = clock.Elapsed;
                    if (started >= measureFrom && ended <= measureTo)
                    {
                        counts[w]++;
                        mine.Add((ended - started).TotalMilliseconds);
                    }
                }
            })).ToArray();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            var (integrated, behind) = await tree.ConfigureAwait(false);

            var all = latencies.SelectMany(l => l).Order().ToArray();
            double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))];
            var rate = counts.Sum() / duration.TotalSeconds;
            return string.Create(CultureInfo.InvariantCulture, $"| {replicas} | {writers} | {rate:N0} | {Percentile(0.50):0.00} | {Percentile(0.99):0.00} | {all.LastOrDefault():0.0} | {integrated / duration.TotalSeconds:N0} | {behind:N0} |");
        }
        finally
        {
            foreach (var ledger in ledgers)
            {
                await ledger.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var state in states)
            {
                ((IDisposable)state).Dispose();
            }
        }
    }

    private static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}
