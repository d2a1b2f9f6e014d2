using System.Security.Cryptography;
using System.Text;
using Enclave.State.Retention;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Enclave.EndToEnd.Tests.Retention;

public sealed class ContentRetentionStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("enclave-retention-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 22, 9, 0, 0, TimeSpan.Zero));
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private ContentRetentionStore NewStore(byte[]? key = null) => new(_dir, key ?? _key, TimeSpan.FromDays(30), _clock);

    private static RetainedContent Content(long index, string prompt, string? answer = "the answer") => new()
    {
        AdmittedIndex = index,
        RequestId = $"req_{index:x8}",
        Actor = "user:alice",
        Prompt = Encoding.UTF8.GetBytes(prompt),
        Answer = answer is null ? null : Encoding.UTF8.GetBytes(answer),
    };

    [Fact]
    public async Task A_record_reads_back_exactly_and_the_file_holds_no_plaintext()
    {
        await using (var store = NewStore())
        {
            await store.RecordAsync(Content(7, "[{\"content\":\"launch codes for SECRET project ZEBRA\",\"role\":\"user\"}]", "ZEBRA answer text"));
            await store.RecordAsync(Content(9, "no answer", answer: null));
            await store.FlushAsync();
            var record = store.Read(7)!;
            Assert.Equal("[{\"content\":\"launch codes for SECRET project ZEBRA\",\"role\":\"user\"}]", Encoding.UTF8.GetString(record.Prompt));
            Assert.Equal("ZEBRA answer text", Encoding.UTF8.GetString(record.Answer!));
            Assert.Equal("req_00000007", record.RequestId);
            Assert.Equal("user:alice", record.Actor);
            Assert.Equal(_clock.GetUtcNow().AddDays(30), record.Expires);
            Assert.Null(store.Read(9)!.Answer);
            Assert.Null(store.Read(8));
        }

        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_dir))
        {
            var bytes = await File.ReadAllBytesAsync(file);
            Assert.Equal(-1, bytes.AsSpan().IndexOf("ZEBRA"u8));
        }
    }

    [Fact]
    public async Task Records_disappear_after_the_period_and_purge_deletes_them()
    {
        await using var store = NewStore();
        await store.RecordAsync(Content(1, "old"));
        await store.FlushAsync();
        _clock.Advance(TimeSpan.FromDays(20));
        await store.RecordAsync(Content(2, "newer"));
        await store.FlushAsync();
        Assert.Equal(0, store.Purge());
        _clock.Advance(TimeSpan.FromDays(10));
        Assert.Null(store.Read(1));
        Assert.NotNull(store.Read(2));
        Assert.Equal(1, store.Purge());
        Assert.Equal(1, store.Count());
        _clock.Advance(TimeSpan.FromDays(20));
        Assert.Equal(1, store.Purge());
        Assert.Equal(0, store.Count());
    }

    [Fact]
    public async Task Dispose_stores_what_is_queued()
    {
        await using (var store = NewStore())
        {
            for (var i = 0; i < 1000; i++)
            {
                await store.RecordAsync(Content(i, "p" + i));
            }
        }

        await using var reopened = NewStore();
        Assert.Equal(1000, reopened.Count());
        Assert.Equal("p999", Encoding.UTF8.GetString(reopened.Read(999)!.Prompt));
    }

    [Fact]
    public async Task Another_key_is_named_not_mistaken_for_tampering()
    {
        await using (var store = NewStore())
        {
            await store.RecordAsync(Content(1, "x"));
        }

        await using var other = NewStore(RandomNumberGenerator.GetBytes(32));
        var error = Assert.Throws<RetentionIntegrityException>(() => other.Read(1));
        Assert.Contains("sealed with key " + RetentionKey.Id(_key), error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("UPDATE retained SET prompt = (SELECT prompt FROM retained WHERE admitted_index = 2) WHERE admitted_index = 1", "moved from another request")]
    [InlineData("UPDATE retained SET answer = prompt WHERE admitted_index = 1", "altered")]
    [InlineData("UPDATE retained SET prompt = substr(prompt, 1, 20) WHERE admitted_index = 1", "truncated")]
    [InlineData("UPDATE retained SET prompt = zeroblob(length(prompt)) WHERE admitted_index = 1", "altered")]
    [InlineData("UPDATE retained SET request_id = 'req_other' WHERE admitted_index = 1", "altered")]
    [InlineData("UPDATE retained SET admitted_index = 5 WHERE admitted_index = 1", "altered")]
    public async Task Tampered_records_do_not_open(string tamper, string expected)
    {
        await using var store = NewStore();
        await store.RecordAsync(Content(1, "the first prompt, long enough to truncate"));
        await store.RecordAsync(Content(2, "the second prompt"));
        await store.FlushAsync();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_dir, "retention.db")}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = tamper;
            Assert.Equal(1, command.ExecuteNonQuery());
        }

        var index = tamper.Contains("admitted_index = 5", StringComparison.Ordinal) && tamper.StartsWith("UPDATE retained SET admitted_index", StringComparison.Ordinal) ? 5 : 1;
        var error = Assert.Throws<RetentionIntegrityException>(() => store.Read(index));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.NotNull(store.Read(2));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Key_files_round_trip_and_bad_ones_are_refused()
    {
        var path = Path.Combine(_dir, "retention.key");
        RetentionKey.Generate(path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var key = RetentionKey.Load(path);
        Assert.Equal(32, key.Length);
        Assert.Contains("already exists", Assert.Throws<ArgumentException>(() => RetentionKey.Generate(path)).Message, StringComparison.Ordinal);
        Assert.Equal(key, RetentionKey.Load(path));

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Assert.Contains("chmod 600", Assert.Throws<ArgumentException>(() => RetentionKey.Load(path)).Message, StringComparison.Ordinal);

        var garbage = Path.Combine(_dir, "garbage.key");
        foreach (var text in new[] { "not base64!", Convert.ToBase64String(new byte[16]), Convert.ToBase64String(new byte[33]), string.Empty })
        {
            File.WriteAllText(garbage, text);
            File.SetUnixFileMode(garbage, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Assert.Contains("256-bit", Assert.Throws<ArgumentException>(() => RetentionKey.Load(garbage)).Message, StringComparison.Ordinal);
        }

        File.WriteAllText(garbage, new string('A', 10_000));
        Assert.Contains("10000 bytes", Assert.Throws<ArgumentException>(() => RetentionKey.Load(garbage)).Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => RetentionKey.Load(Path.Combine(_dir, "missing.key")));
    }

    [Fact]
    public void Options_name_every_problem()
    {
        Assert.Empty(new RetentionOptions().Validate());
        var problems = new RetentionOptions { Enabled = true, Days = 0 }.Validate();
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("Days", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("keygen", StringComparison.Ordinal));
        Assert.Empty(new RetentionOptions { Enabled = true, Days = 90, KeyFile = "/k" }.Validate());
    }
}
