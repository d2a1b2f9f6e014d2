using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;

namespace Enclave.State.Retention;

/// <summary>
/// Keeps prompts and answers encrypted at rest for a retention period. Each part is sealed with AES-256-GCM under
/// a fresh 96-bit nonce; the associated data binds it to its ledger index, request ID and part, so a record moved to
/// another request or a part swapped fails to open. The plaintext of a part is exactly the bytes whose SHA-256 the
/// ledger recorded (<c>promptSha256</c>, <c>answerSha256</c>), so an auditor can check a retained record against the
/// ledger. Records are written off the request path in batches; <see cref="Purge"/> deletes expired ones
/// (<c>secure_delete</c> overwrites their pages).
/// </summary>
public sealed class ContentRetentionStore : IAsyncDisposable
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly IRetentionStore _store;
    private readonly byte[] _key;
    private readonly string _keyId;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _period;
    private readonly Channel<RetainedContent> _queue = Channel.CreateBounded<RetainedContent>(new BoundedChannelOptions(8192) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly Task _writer;

    /// <summary>Opens (or creates) <c>retention.db</c> in <paramref name="dataDirectory"/>, or the retention schema of <paramref name="state"/>.</summary>
    public ContentRetentionStore(string dataDirectory, byte[] key, TimeSpan period, TimeProvider clock, StateConnectionFactory? state = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != RetentionKey.Size)
        {
            throw new ArgumentException("the retention key must be 256 bits", nameof(key));
        }

        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), "the retention period must be positive");
        }

        _key = key.ToArray();
        _keyId = RetentionKey.Id(_key);
        _clock = clock;
        _period = period;
        if (state is not null)
        {
            Enclave.State.Migrations.StateMigrator.Migrate(state, StateDatabase.Retention, clock);
        }

        _store = new SqliteRetentionStore(state ?? EnclaveState.Open(dataDirectory, StateDatabase.Retention, clock));

        _writer = Task.Run(WriteLoopAsync);
    }

    private long _failedRecords;

    /// <summary>Records that could not be stored after three attempts (storage failing); exported as a metric.</summary>
    public long FailedRecords => Interlocked.Read(ref _failedRecords);

    /// <summary>The retention period.</summary>
    public TimeSpan Period => _period;

    /// <summary>
    /// Queues a request's content to be sealed and stored. Waits only when 8,192 records are already queued
    /// (the writer is behind); a batch the storage refuses three times is counted in <see cref="FailedRecords"/>.
    /// </summary>
    public ValueTask RecordAsync(RetainedContent content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        return _queue.Writer.WriteAsync(content, cancellationToken);
    }

    /// <summary>Waits until everything queued before the call is stored.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(new RetainedContent { AdmittedIndex = -1, RequestId = string.Empty, Actor = string.Empty, Prompt = [], Flushed = done }, cancellationToken).ConfigureAwait(false);
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The record of the request admitted at <paramref name="admittedIndex"/>; null when none is kept (never retained or expired).</summary>
    /// <exception cref="RetentionIntegrityException">The record was sealed with another key or does not open (tampered).</exception>
    public RetainedRecord? Read(long admittedIndex)
    {
        if (_store.Find(admittedIndex, _clock.GetUtcNow()) is not { } row)
        {
            return null;
        }

        var requestId = row.RequestId;
        var keyId = row.KeyId;
        if (!string.Equals(keyId, _keyId, StringComparison.Ordinal))
        {
            throw new RetentionIntegrityException($"the record at index {admittedIndex} was sealed with key {keyId}; the configured key is {_keyId}");
        }

        var prompt = Open(admittedIndex, requestId, "prompt", row.Prompt);
        var answer = row.Answer is null ? null : Open(admittedIndex, requestId, "answer", row.Answer);
        return new RetainedRecord
        {
            AdmittedIndex = admittedIndex,
            RequestId = requestId,
            Actor = row.Actor,
            Created = row.Created,
            Expires = row.Expires,
            Prompt = prompt,
            Answer = answer,
        };
    }

    /// <summary>Deletes every record whose retention period has ended; returns how many.</summary>
    public int Purge() => _store.Purge(_clock.GetUtcNow());

    /// <summary>Number of records kept (expired ones included until purged).</summary>
    public long Count() => _store.Count();

    /// <summary>Stores what is queued, then stops the writer.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        CryptographicOperations.ZeroMemory(_key);
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<RetainedContent>(256);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < 256 && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            Exception? failure = null;
            for (var attempt = 0; attempt < 3; attempt++)
            {
                try
                {
                    Store(batch.Where(b => b.Flushed is null));
                    failure = null;
                    break;
                }
                catch (Exception ex) when (ex is System.Data.Common.DbException or IOException)
                {
                    failure = ex;
                    await Task.Delay(TimeSpan.FromMilliseconds(100 << attempt)).ConfigureAwait(false);
                }
            }

            if (failure is not null)
            {
                Interlocked.Add(ref _failedRecords, batch.Count(b => b.Flushed is null));
            }

            foreach (var flushed in batch.Where(b => b.Flushed is not null))
            {
                if (failure is null)
                {
                    flushed.Flushed!.TrySetResult();
                }
                else
                {
                    flushed.Flushed!.TrySetException(failure);
                }
            }

            batch.Clear();
        }
    }

    private void Store(IEnumerable<RetainedContent> items)
    {
        var now = _clock.GetUtcNow();
        _store.Put(items.Select(item => new RetainedRow(
            item.AdmittedIndex,
            item.RequestId,
            item.Actor,
            now,
            now + _period,
            _keyId,
            Seal(item.AdmittedIndex, item.RequestId, "prompt", item.Prompt),
            item.Answer is { } a ? Seal(item.AdmittedIndex, item.RequestId, "answer", a) : null)));
    }

    private byte[] Seal(long index, string requestId, string part, ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[NonceSize + plaintext.Length + TagSize];
        var nonce = sealedBytes.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceSize, plaintext.Length), sealedBytes.AsSpan(NonceSize + plaintext.Length), AssociatedData(index, requestId, part));
        return sealedBytes;
    }

    private byte[] Open(long index, string requestId, string part, byte[] sealedBytes)
    {
        if (sealedBytes.Length < NonceSize + TagSize)
        {
            throw new RetentionIntegrityException($"the {part} of the record at index {index} is truncated");
        }

        var plaintext = new byte[sealedBytes.Length - NonceSize - TagSize];
        try
        {
            using var aes = new AesGcm(_key, TagSize);
            aes.Decrypt(sealedBytes.AsSpan(0, NonceSize), sealedBytes.AsSpan(NonceSize, plaintext.Length), sealedBytes.AsSpan(NonceSize + plaintext.Length), plaintext, AssociatedData(index, requestId, part));
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new RetentionIntegrityException($"the {part} of the record at index {index} does not open: it was altered or moved from another request");
        }

        return plaintext;
    }

    private static byte[] AssociatedData(long index, string requestId, string part)
    {
        var text = Encoding.UTF8.GetBytes($"enclave-retention/v1\n{requestId}\n{part}\n");
        var data = new byte[8 + text.Length];
        BinaryPrimitives.WriteInt64BigEndian(data, index);
        text.CopyTo(data, 8);
        return data;
    }

}

/// <summary>What to keep of one request: the exact bytes whose digests the ledger recorded.</summary>
public sealed record RetainedContent
{
    /// <summary>The ledger index of the request's <c>request.admitted</c> entry.</summary>
    public required long AdmittedIndex { get; init; }

    /// <summary>The request ID.</summary>
    public required string RequestId { get; init; }

    /// <summary>Who asked (principal ID).</summary>
    public required string Actor { get; init; }

    /// <summary>The prompt bytes (SHA-256 = the ledger's <c>promptSha256</c>).</summary>
    public required byte[] Prompt { get; init; }

    /// <summary>The answer bytes (SHA-256 = the ledger's <c>answerSha256</c>); null when there was no answer.</summary>
    public byte[]? Answer { get; init; }

    internal TaskCompletionSource? Flushed { get; init; }
}

/// <summary>A decrypted retained record.</summary>
public sealed record RetainedRecord
{
    /// <summary>The ledger index of the request's admission.</summary>
    public required long AdmittedIndex { get; init; }

    /// <summary>The request ID.</summary>
    public required string RequestId { get; init; }

    /// <summary>Who asked.</summary>
    public required string Actor { get; init; }

    /// <summary>When it was stored.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>When it will be deleted.</summary>
    public required DateTimeOffset Expires { get; init; }

    /// <summary>The prompt bytes.</summary>
    public required byte[] Prompt { get; init; }

    /// <summary>The answer bytes, if any.</summary>
    public byte[]? Answer { get; init; }
}

/// <summary>A retained record exists but cannot be opened with the configured key as stored.</summary>
public sealed class RetentionIntegrityException(string message) : Exception(message);
