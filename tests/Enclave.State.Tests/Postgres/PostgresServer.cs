using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Enclave.State.Tests.Postgres;

/// <summary>
/// A real PostgreSQL 15 server for the tests of one test assembly: <c>initdb</c> into a temp directory, <c>pg_ctl start</c> on
/// a free loopback port (trust authentication, loopback only), stopped and deleted when the test process exits. The
/// binaries are taken from <c>ENCLAVE_PG_BIN</c>, else Debian's <c>/usr/lib/postgresql/15/bin</c> (package
/// <c>postgresql-15</c>, not on PATH), else PATH. <c>initdb</c> refuses to run as root: as root (CI) every server command
/// runs as the <c>postgres</c> user the Debian package creates (<c>runuser -u postgres</c>), which owns the directory.
/// Durability is off (<c>fsync=off</c>): the tests check behaviour, not crash safety, on a machine shared by many builds.
/// </summary>
internal sealed class PostgresServer
{
    private const string Superuser = "enclave";
    private static readonly Lazy<PostgresServer> Instance = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);
    private readonly string _bin;
    private readonly string _root;
    private readonly string? _runAs;

    private PostgresServer(string bin, string root, string? runAs, int port)
    {
        _bin = bin;
        _root = root;
        _runAs = runAs;
        Port = port;
    }

    /// <summary>The test process's server, started on first use.</summary>
    public static PostgresServer Shared => Instance.Value;

    /// <summary>The loopback port it listens on.</summary>
    public int Port { get; }

    private string DataPath => Path.Combine(_root, "data");

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Database = database,
        Username = Superuser,
        Pooling = true,
        Timeout = 30,
        CommandTimeout = 60,
    }.ConnectionString;

    /// <summary>Creates an empty database named <paramref name="prefix"/> plus a random suffix and returns its connection string.</summary>
    public string CreateDatabase(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'", connection);
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    /// <summary>Drops a database made by <see cref="CreateDatabase"/> (its pooled connections cleared first).</summary>
    public void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    private static PostgresServer Start()
    {
        var bin = FindBinaries();
        RemoveStale();
        var runAs = Environment.UserName == "root" || IsRoot() ? "postgres" : null;
        Exception? last = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var root = Directory.CreateTempSubdirectory("enclave-pg-").FullName;
            var server = new PostgresServer(bin, root, runAs, FreePort());
            try
            {
                server.InitAndStart();
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
                server.StartWatchdog();
                return server;
            }
            catch (InvalidOperationException ex)
            {
                // Most likely another process took the port between our probe and the server's bind: try another.
                last = ex;
                server.Stop();
            }
        }

        throw new InvalidOperationException("could not start a PostgreSQL server for the tests", last);
    }

    private void InitAndStart()
    {
        if (_runAs is not null)
        {
            Run("chown", ["-R", _runAs, _root], asServer: false);
        }

        Run(Path.Combine(_bin, "initdb"), ["-D", DataPath, "-U", Superuser, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"], asServer: true);
        var options = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={_root} -c fsync=off -c full_page_writes=off " +
            "-c synchronous_commit=off -c max_connections=300 -c shared_buffers=32MB";
        Run(Path.Combine(_bin, "pg_ctl"), ["-D", DataPath, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "120", "-o", options, "start"], asServer: true);
    }

    /// <summary>
    /// Stops the server when this test process is gone, however it ended. The exit handler above runs only on a normal
    /// exit, and the test platform may end a test host before the handler's <c>pg_ctl stop</c> finishes (a server was
    /// found still running after a CI run): a detached shell polls for this process and, once it has gone, stops the
    /// server and deletes its directory. <c>/proc</c> is read rather than <c>kill -0</c>, which fails across users.
    /// </summary>
    private void StartWatchdog()
    {
        var pgCtl = Path.Combine(_bin, "pg_ctl");
        var stop = _runAs is null ? $"'{pgCtl}'" : $"runuser -u {_runAs} -- '{pgCtl}'";
        var script =
            "exec </dev/null >/dev/null 2>&1; " +
            $"while [ -e /proc/{Environment.ProcessId} ]; do sleep 1; done; " +
            $"if [ -e '{DataPath}/postmaster.pid' ]; then {stop} -D '{DataPath}' -m immediate -w stop >/dev/null 2>&1; fi; " +
            $"rm -rf '{_root}'";
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["sh", "-c", script])
        {
            start.ArgumentList.Add(argument);
        }

        // Not awaited nor disposed with the test process: it must outlive it.
        Process.Start(start);
    }

    private void Stop()
    {
        try
        {
            if (File.Exists(Path.Combine(DataPath, "postmaster.pid")))
            {
                Run(Path.Combine(_bin, "pg_ctl"), ["-D", DataPath, "-m", "immediate", "-w", "stop"], asServer: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already stopped; the directory is removed below either way.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private void Run(string program, IReadOnlyList<string> arguments, bool asServer)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asServer && _runAs is not null)
        {
            start.FileName = "runuser";
            foreach (var argument in (string[])["-u", _runAs, "--", program])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = program;
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} did not finish within 3 minutes");
        }

        if (process.ExitCode != 0)
        {
            var log = Path.Combine(_root, "server.log");
            throw new InvalidOperationException(
                $"{Path.GetFileName(program)} {string.Join(' ', arguments)} failed ({process.ExitCode}): {output.Result}{error.Result}" +
                (File.Exists(log) ? "\nserver log:\n" + File.ReadAllText(log) : string.Empty));
        }
    }

    /// <summary>
    /// Removes the directories of servers that earlier test processes stopped but could not delete (a test host may be
    /// ended before its exit handler finishes): no <c>postmaster.pid</c>, and older than ten minutes.
    /// </summary>
    private static void RemoveStale()
    {
        foreach (var directory in Directory.EnumerateDirectories(Path.GetTempPath(), "enclave-pg-*"))
        {
            try
            {
                if (!File.Exists(Path.Combine(directory, "data", "postmaster.pid")) && Directory.GetLastWriteTimeUtc(directory) < DateTime.UtcNow.AddMinutes(-10))
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static string FindBinaries()
    {
        string?[] candidates = [Environment.GetEnvironmentVariable("ENCLAVE_PG_BIN"), "/usr/lib/postgresql/15/bin"];
        foreach (var candidate in candidates)
        {
            if (!string.IsNullOrEmpty(candidate) && File.Exists(Path.Combine(candidate, "initdb")))
            {
                return candidate;
            }
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException(
            "PostgreSQL 15 server binaries (initdb, pg_ctl) were not found in ENCLAVE_PG_BIN, /usr/lib/postgresql/15/bin or PATH: " +
            "install them (Debian: apt-get install postgresql-15) or set ENCLAVE_PG_BIN to their folder");
    }

    private static bool IsRoot()
    {
        var status = "/proc/self/status";
        return File.Exists(status) && File.ReadLines(status).Any(line => line.StartsWith("Uid:", StringComparison.Ordinal) && line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
