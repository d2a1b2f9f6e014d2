using System.Buffers;
using System.Security.Cryptography;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// Downloads target files that verified metadata lists, from <c>BASE/PATH</c> (or <c>BASE/DIR/HASH.NAME</c> under
/// consistent snapshots), streaming to a temporary file beside the destination while checking the length (never
/// reading past it) and every listed hash this client supports; only a verified file replaces the destination,
/// atomically. A stalled transfer fails after the idle time limit.
/// </summary>
public sealed class HttpTargetDownloader : IDisposable
{
    private const int BufferSize = 1024 * 1024;

    private readonly Uri _baseUrl;
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly TimeSpan _idleTimeout;

    /// <summary>
    /// Downloads from <paramref name="targetBaseUrl"/>; <paramref name="idleTimeout"/> (default 30 s) bounds the
    /// wait for the response and for each chunk of the body.
    /// </summary>
    public HttpTargetDownloader(Uri targetBaseUrl, HttpClient? client = null, TimeSpan? idleTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(targetBaseUrl);
        _baseUrl = TufHttp.DirectoryUrl(targetBaseUrl, nameof(targetBaseUrl));
        _ownsClient = client is null;
        _client = client ?? TufHttp.CreateClient();
        _idleTimeout = idleTimeout ?? TimeSpan.FromSeconds(30);
        if (_idleTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(idleTimeout), "the idle timeout must be positive");
        }
    }

    /// <summary>
    /// The file name a target is stored under in a flat target directory: the whole path percent-encoded into one
    /// segment (as python-tuf stores targets), so that no target path can leave the directory.
    /// </summary>
    public static string LocalFileName(string targetPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetPath);
        var name = Uri.EscapeDataString(targetPath);
        // '.' is unreserved and stays; "." and ".." would name directories.
        return name is "." or ".." ? name.Replace(".", "%2E", StringComparison.Ordinal) : name;
    }

    /// <summary>
    /// The URL of <paramref name="target"/>: each path segment percent-encoded, and under consistent snapshots the
    /// last segment prefixed with a listed digest (SHA-256 where listed) and a dot.
    /// </summary>
    public Uri TargetUrl(TargetFile target, bool consistentSnapshot)
    {
        ArgumentNullException.ThrowIfNull(target);
        var segments = target.Path.Split('/').Select(Uri.EscapeDataString).ToArray();
        if (consistentSnapshot)
        {
            var digest = target.Hashes.TryGetValue("sha256", out var sha256) ? sha256 : target.Hashes.Values.First();
            segments[^1] = Uri.EscapeDataString(digest) + "." + segments[^1];
        }

        return new Uri(_baseUrl, string.Join('/', segments));
    }

    /// <summary>Whether <paramref name="path"/> already holds exactly <paramref name="target"/> (length and every supported hash).</summary>
    public static bool IsCached(TargetFile target, string path)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            if (file.Length != target.Length)
            {
                return false;
            }

            using var hashes = new TargetHashes(target);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                int read;
                while ((read = file.Read(buffer, 0, BufferSize)) > 0)
                {
                    hashes.Append(buffer.AsSpan(0, read));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return hashes.Mismatch() is null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or AirlockRejectedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Downloads <paramref name="target"/> to <paramref name="destinationPath"/>. Throws
    /// <see cref="AirlockRejectedException"/> (<see cref="AirlockRejection.LengthMismatch"/>,
    /// <see cref="AirlockRejection.HashMismatch"/>) when the bytes served are not the listed ones and
    /// <see cref="TufFetchException"/> when they cannot be read; either way the destination is untouched.
    /// </summary>
    public async Task DownloadAsync(TargetFile target, bool consistentSnapshot, string destinationPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        using var hashes = new TargetHashes(target);
        var url = TargetUrl(target, consistentSnapshot);
        var directory = Path.GetDirectoryName(Path.GetFullPath(destinationPath))!;
        var temp = Path.Combine(directory, $".{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.part");
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        var moved = false;
        try
        {
            idle.CancelAfter(_idleTimeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, idle.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new TufFetchException($"target {target.Path}: {url} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            }

            await using var body = await response.Content.ReadAsStreamAsync(idle.Token).ConfigureAwait(false);
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                long total = 0;
                while (true)
                {
                    // Never read past length + 1: one byte more is enough to know the file is too long.
                    var want = (int)Math.Min(BufferSize, target.Length + 1 - total);
                    if (want <= 0)
                    {
                        break;
                    }

                    idle.CancelAfter(_idleTimeout);
                    var read = await body.ReadAsync(buffer.AsMemory(0, want), idle.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    total += read;
                    if (total > target.Length)
                    {
                        throw new AirlockRejectedException(AirlockRejection.LengthMismatch, $"length mismatch: target {target.Path} from {url} is longer than the {target.Length} bytes its metadata ({target.Role}) lists; nothing was kept");
                    }

                    hashes.Append(buffer.AsSpan(0, read));
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                }

                if (total != target.Length)
                {
                    throw new AirlockRejectedException(AirlockRejection.LengthMismatch, $"length mismatch: target {target.Path} from {url} is {total} bytes but its metadata ({target.Role}) lists {target.Length}; nothing was kept");
                }

                if (hashes.Mismatch() is { } algorithm)
                {
                    throw new AirlockRejectedException(AirlockRejection.HashMismatch, $"hash mismatch: target {target.Path} from {url} does not have the {algorithm} its metadata ({target.Role}) lists; nothing was kept");
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, destinationPath, overwrite: true);
            moved = true;
        }
        catch (OperationCanceledException e) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TufFetchException($"target {target.Path}: {url} sent nothing for {_idleTimeout.TotalSeconds:0.#} s", e);
        }
        catch (HttpRequestException e)
        {
            throw new TufFetchException($"target {target.Path}: {url} could not be fetched: {e.Message}", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!moved)
            {
                TryDelete(temp);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The failure being reported matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    /// <summary>Incremental digests for every listed algorithm this client supports (at least one must be).</summary>
    private sealed class TargetHashes : IDisposable
    {
        private readonly List<(string Name, string Expected, IncrementalHash Hash)> _hashes = [];

        public TargetHashes(TargetFile target)
        {
            foreach (var (name, hex) in target.Hashes)
            {
                HashAlgorithmName? algorithm = name switch
                {
                    "sha256" => HashAlgorithmName.SHA256,
                    "sha384" => HashAlgorithmName.SHA384,
                    "sha512" => HashAlgorithmName.SHA512,
                    _ => null,
                };
                if (algorithm is { } a)
                {
                    _hashes.Add((name, hex, IncrementalHash.CreateHash(a)));
                }
            }

            if (_hashes.Count == 0)
            {
                Dispose();
                throw new AirlockRejectedException(AirlockRejection.HashMismatch, $"hash mismatch: target {target.Path} lists no hash this client can check ({string.Join(", ", target.Hashes.Keys)}); sha256, sha384 or sha512 is required");
            }
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            foreach (var (_, _, hash) in _hashes)
            {
                hash.AppendData(data);
            }
        }

        /// <summary>The first algorithm whose digest differs from the listed one, or null when all match.</summary>
        public string? Mismatch()
        {
            foreach (var (name, expected, hash) in _hashes)
            {
                var actual = hash.GetHashAndReset();
                byte[] wanted;
                try
                {
                    wanted = Convert.FromHexString(expected);
                }
                catch (FormatException)
                {
                    return name;
                }

                if (!CryptographicOperations.FixedTimeEquals(actual, wanted))
                {
                    return name;
                }
            }

            return null;
        }

        public void Dispose()
        {
            foreach (var (_, _, hash) in _hashes)
            {
                hash.Dispose();
            }
        }
    }
}
