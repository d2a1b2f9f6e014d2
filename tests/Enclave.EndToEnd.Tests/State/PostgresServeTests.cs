using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Ledger;
using Enclave.Signing.Keys;
using Enclave.State.Postgres;
using Enclave.State.Tests.Postgres;
using Npgsql;
using OpenAI;
using OpenAI.Chat;

namespace Enclave.EndToEnd.Tests.State;

/// <summary>
/// The real <c>enclave serve</c> process with its state in a real PostgreSQL server (<c>ENCLAVE__State__Provider=postgres</c>):
/// the official OpenAI client is answered, every entry and key lives in PostgreSQL (no <c>enclave.db</c> is written), and
/// the ledger read back from PostgreSQL verifies against the checkpoint the server signed.
/// </summary>
public sealed class PostgresServeTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-pg-serve-").FullName;
    private VllmStub _upstream = null!;
    private string _connection = null!;

    public async Task InitializeAsync()
    {
        _upstream = await VllmStub.StartAsync();
        _connection = PostgresServer.Shared.CreateDatabase("serve");
    }

    [Fact]
    public async Task Serve_OnPostgres_AnswersTheOpenAiClient_AndTheLedgerInPostgresVerifies()
    {
        var config = WriteConfig();
        var url = $"http://127.0.0.1:{FreePort()}";
        var data = Path.Combine(_root, "data");
        long admitted = -1;

        var key = await RunServerAsync(data, url, config, _connection, async key =>
        {
            var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(url + "/v1"), RetryPolicy = new ClientRetryPolicy(0) });
            var answer = await client.GetChatClient("echo-chat").CompleteChatAsync([new UserChatMessage("kept in postgres")]);
            Assert.Equal("echo: kept in postgres", answer.Value.Content[0].Text);
            Assert.True(answer.GetRawResponse().Headers.TryGetValue("Enclave-Ledger-Index", out var index));
            admitted = long.Parse(index!, CultureInfo.InvariantCulture);
        });
        Assert.StartsWith("ek_", key, StringComparison.Ordinal);

        // Nothing of the state went to SQLite files: the data directory keeps only the keys (and the lock).
        Assert.False(File.Exists(Path.Combine(data, "enclave.db")), "enclave.db was written although State:Provider is postgres");
        Assert.True(Directory.Exists(Path.Combine(data, "keys")));

        using var state = new PostgresConnectionFactory(_connection);
        using (var reader = LedgerReader.Open(data, state))
        {
            var signed = reader.LatestCheckpoint() ?? throw new InvalidOperationException("the server signed no checkpoint");
            var checkpoint = LedgerAuditor.VerifyCheckpoint(Encoding.UTF8.GetBytes(signed.Note), LedgerKeys.LoadVerifierKeys(data), reader.Origin);
            var audit = LedgerAuditor.VerifyTiles(reader.OpenTileReader(), checkpoint, checkEntries: true);
            Assert.Equal(checkpoint.Size, audit.EntriesChecked);
            Assert.InRange(admitted, 0, checkpoint.Size - 1);

            var entry = reader.ReadEntry(admitted);
            Assert.Equal("request.admitted", JsonNode.Parse(entry)!["type"]!.GetValue<string>());
            LedgerAuditor.VerifyInclusion(entry, admitted, checkpoint, reader.ProveInclusion(admitted, checkpoint.Size));
        }

        Assert.True(Count("SELECT count(*) FROM enclave.ledger_entries") > admitted);
        Assert.Equal(1, Count("SELECT count(*) FROM enclave.api_keys"));

        // A restart finds the keys in PostgreSQL: no new key is printed and the old one still works.
        var second = await RunServerAsync(data, url, config, _connection, async _ =>
        {
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new("Bearer", key);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url + "/v1/models")).StatusCode);
        });
        Assert.Null(second);
    }

    [Fact]
    public async Task Serve_OnAnUnreachablePostgres_ExitsSayingWhereAndWhatToCheck_WithoutThePassword()
    {
        var unreachable = new NpgsqlConnectionStringBuilder(_connection) { Port = FreePort(), Password = "pw-never-shown", Timeout = 5 }.ConnectionString;
        using var process = Start(unreachable, "serve", "--data", Path.Combine(_root, "down"), "--urls", $"http://127.0.0.1:{FreePort()}", "--config", WriteConfig());
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("State:ConnectionString", stderr, StringComparison.Ordinal);
        Assert.Contains("PostgreSQL database", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-never-shown", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_WithPostgresButNoConnectionString_ExitsInvalidInput()
    {
        using var process = Start(string.Empty, "serve", "--data", Path.Combine(_root, "none"), "--urls", $"http://127.0.0.1:{FreePort()}", "--config", WriteConfig());
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(3, process.ExitCode);
        Assert.Contains("State:ConnectionString is empty", stderr, StringComparison.Ordinal);
    }

    private long Count(string sql)
    {
        using var connection = new NpgsqlConnection(_connection);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return (long)command.ExecuteScalar()!;
    }

    private string WriteConfig() => ServeProcess.WriteEchoUpstreamConfig(Path.Combine(_root, "enclave.json"), _upstream.BaseUrl);

    private static Task<string?> RunServerAsync(string data, string url, string config, string connection, Func<string, Task> whileRunning) =>
        ServeProcess.RunServerAsync(OnPostgres(connection), ["--data", data, "--urls", url, "--config", config, "--checkpoint-interval", "0"], whileRunning, TimeSpan.FromSeconds(90));

    /// <summary>Starts <c>enclave</c> with <c>ENCLAVE__State__Provider=postgres</c> and the connection string in the environment.</summary>
    private static Process Start(string connection, params string[] args) => ServeProcess.Start(OnPostgres(connection), args);

    private static Dictionary<string, string> OnPostgres(string connection) => new()
    {
        ["ENCLAVE__State__Provider"] = "postgres",
        ["ENCLAVE__State__ConnectionString"] = connection,
    };

    private static int FreePort() => ServeProcess.FreePort();

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        PostgresServer.Shared.DropDatabase(_connection);
        Directory.Delete(_root, true);
    }
}
