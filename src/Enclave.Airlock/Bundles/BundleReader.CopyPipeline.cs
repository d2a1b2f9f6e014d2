using System.Buffers;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using Enclave.Core;

namespace Enclave.Airlock.Bundles;

// The copy pipeline: each expected target streamed into quarantine (read, SHA-256, write with a few chunks in
// flight; several targets at once when the archive is one seekable file), failures reported in archive order.
public sealed partial class BundleReader
{
    private sealed partial class Session
    {
        private void ReadTarget(string name, long size)
        {
            _expected ??= Resolve();
            if (!_expected.TryGetValue(name, out var expected))
            {
                throw Reject(BundleRejection.UndeclaredEntry, $"entry {name} is not named by the targets metadata");
            }

            if (size > expected.Length)
            {
                throw Reject(BundleRejection.TooLarge, $"entry {name} is {size} bytes in the archive but the targets metadata says {expected.Length}");
            }

            if (size != expected.Length)
            {
                throw Reject(BundleRejection.LengthMismatch, $"entry {name} is {size} bytes in the archive but the targets metadata says {expected.Length}");
            }

            var finalPath = Path.GetFullPath(Path.Combine(_targetsRoot, name.Replace('/', Path.DirectorySeparatorChar)));
            if (!finalPath.StartsWith(_targetsRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw Reject(BundleRejection.PathTraversal, $"entry {name} resolves outside the quarantine directory");
            }

            var copy = new PendingCopy
            {
                Name = name,
                Size = size,
                Expected = expected.Sha256,
                TempPath = Path.Combine(_incoming, _copies.Count.ToString(CultureInfo.InvariantCulture)),
                FinalPath = finalPath,
            };
            _copies.Add(copy);
            if (_seekableHandle is { } handle && size > ChunkSize)
            {
                Dispatch(copy, handle);
                return;
            }

            // Small targets, or an archive that can only be read forward: copied here, in archive order.
            copy.Digest = size <= ChunkSize
                ? CopySmall(copy)
                : CopyAsync(copy, (buffer, _) => ReadFull(buffer.Span), reportProgress: true).GetAwaiter().GetResult();
            Finish(copy);
            SkipPadding(size, name);
            ReportProgress();
        }

        // The header walk seeks past the data; a worker copies it from its own byte range of the file.
        private void Dispatch(PendingCopy copy, Microsoft.Win32.SafeHandles.SafeFileHandle handle)
        {
            while (!_copySlots.Wait(100, cancellationToken))
            {
                ThrowIfACopyFailed();
                ReportProgress();
            }

            ThrowIfACopyFailed();
            var dataOffset = archive.Position;
            copy.Task = Task.Run(
                async () =>
                {
                    try
                    {
                        copy.Digest = await CopyAsync(copy, (buffer, offset) => ReadAt(handle, buffer.Span, dataOffset + offset), reportProgress: false).ConfigureAwait(false);
                        Finish(copy);
                    }
                    catch
                    {
                        _copyFailed = true;
                        throw;
                    }
                    finally
                    {
                        _copySlots.Release();
                    }
                },
                CancellationToken.None);
            var padded = checked(copy.Size + ((BlockSize - (copy.Size % BlockSize)) % BlockSize));
            archive.Seek(padded, SeekOrigin.Current);
            _position += padded;
            ReportProgress();
        }

        private static int ReadAt(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var read = RandomAccess.Read(handle, buffer[total..], offset + total);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }

            return total;
        }

        private void Finish(PendingCopy copy)
        {
            Span<byte> digest = stackalloc byte[Sha256Digest.Size];
            copy.Digest!.Value.CopyTo(digest);
            Span<byte> wanted = stackalloc byte[Sha256Digest.Size];
            copy.Expected.CopyTo(wanted);
            if (!CryptographicOperations.FixedTimeEquals(digest, wanted))
            {
                throw Reject(BundleRejection.HashMismatch, $"entry {copy.Name} has SHA-256 {copy.Digest} but the targets metadata says {copy.Expected}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(copy.FinalPath)!);
            File.Move(copy.TempPath, copy.FinalPath, overwrite: false);
        }

        private void ThrowIfACopyFailed()
        {
            if (_copyFailed)
            {
                // Run reports the failed copy itself (the earliest in archive order).
                throw new OperationCanceledException("a target copy failed");
            }
        }

        // Waits for every dispatched copy; returns the failure of the earliest failed target, if any.
        private ExceptionDispatchInfo? WaitForCopies()
        {
            foreach (var copy in _copies)
            {
                if (copy.Task is null)
                {
                    continue;
                }

                try
                {
                    // Keep reporting while workers copy: the header walk ends long before a large target is done.
                    while (Task.WaitAny([copy.Task], TimeSpan.FromMilliseconds(100)) < 0)
                    {
                        ReportProgress();
                    }

                    copy.Task.GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    copy.Failure ??= ExceptionDispatchInfo.Capture(e);
                }
            }

            return _copies.FirstOrDefault(c => c.Failure is not null)?.Failure;
        }

        // Progress counts bytes read here plus bytes the workers have hashed; only this thread reports, in order.
        private void ReportProgress()
        {
            if (progress is null)
            {
                return;
            }

            var pending = _copies.Where(c => c.Task is not null).Sum(c => c.Size - Interlocked.Read(ref c.Hashed));
            var done = _position - pending;
            if (done > _reported)
            {
                _reported = done;
                progress.Report(done);
            }
        }

        // A target of at most one chunk: read, hash and write here, without handing off.
        private Sha256Digest CopySmall(PendingCopy copy)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(copy.Size, 1));
            try
            {
                var length = (int)copy.Size;
                var read = ReadFull(buffer.AsSpan(0, length));
                if (read < length)
                {
                    throw Reject(BundleRejection.Truncated, $"entry {copy.Name} is cut short: {read} of {copy.Size} bytes present");
                }

                using (var file = new FileStream(copy.TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
                {
                    file.Write(buffer, 0, length);
                    file.Flush(flushToDisk: options.FlushToDisk);
                }

                return new Sha256Digest(SHA256.HashData(buffer.AsSpan(0, length)));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        // Streams copy.Size bytes into copy.TempPath in three stages with ChunksPerCopy chunks in flight: read (this
        // thread, through read(buffer, offsetInEntry)), SHA-256 and write (each its own task), so that the hash never
        // waits for a read or a write. Returns the digest; the file is complete (and flushed) when it returns.
        private async Task<Sha256Digest> CopyAsync(PendingCopy copy, Func<Memory<byte>, long, int> read, bool reportProgress)
        {
            var chunk = (int)Math.Min(ChunkSize, Math.Max(copy.Size, 1));
            var count = copy.Size <= ChunkSize ? 1 : ChunksPerCopy;

            // Aligned (pinned) buffers so that the writer can hand them to an O_DIRECT file; room for the padding
            // of a partial last chunk. Same number of chunks in flight as before: memory stays bounded.
            var capacity = checked((chunk + QuarantineFile.Alignment - 1) / QuarantineFile.Alignment * QuarantineFile.Alignment);
            var buffers = new Memory<byte>[count];
            for (var i = 0; i < count; i++)
            {
                buffers[i] = capacity == ChunkSize && AlignedChunks.TryTake(out var pooled) ? pooled : QuarantineFile.AllocateAligned(capacity);
            }

            var free = Channel.CreateUnbounded<Memory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            foreach (var buffer in buffers)
            {
                free.Writer.TryWrite(buffer);
            }

            var toHash = Channel.CreateUnbounded<(Memory<byte> Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var toWrite = Channel.CreateUnbounded<(Memory<byte> Buffer, int Length)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Task? hashing = null;
            Task? writing = null;
            QuarantineFile? file = null;
            try
            {
                file = QuarantineFile.Create(copy.TempPath, copy.Size, options.DirectWrites);
                hashing = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await foreach (var item in toHash.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                            {
                                hash.AppendData(item.Buffer.Span[..item.Length]);
                                Interlocked.Add(ref copy.Hashed, item.Length);
                                toWrite.Writer.TryWrite(item);
                            }
                        }
                        finally
                        {
                            toWrite.Writer.TryComplete();
                        }
                    },
                    CancellationToken.None);
                writing = Task.Run(
                    async () =>
                    {
                        try
                        {
                            await foreach (var item in toWrite.Reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                            {
                                file.Append(item.Buffer, item.Length);
                                free.Writer.TryWrite(item.Buffer);
                            }
                        }
                        catch
                        {
                            await stop.CancelAsync().ConfigureAwait(false);
                            throw;
                        }
                    },
                    CancellationToken.None);

                long done = 0;
                while (done < copy.Size)
                {
                    var buffer = await free.Reader.ReadAsync(stop.Token).ConfigureAwait(false);
                    var want = (int)Math.Min(chunk, copy.Size - done);
                    var got = read(buffer[..want], done);
                    if (got < want)
                    {
                        throw Reject(BundleRejection.Truncated, $"entry {copy.Name} is cut short: {done + got} of {copy.Size} bytes present");
                    }

                    toHash.Writer.TryWrite((buffer, got));
                    done += got;
                    if (reportProgress)
                    {
                        ReportProgress();
                    }
                }

                toHash.Writer.TryComplete();
                await hashing.ConfigureAwait(false);
                await writing.ConfigureAwait(false);
                file.Complete(options.FlushToDisk);
                return new Sha256Digest(hash.GetHashAndReset());
            }
            catch (OperationCanceledException) when (writing is { IsFaulted: true } && !cancellationToken.IsCancellationRequested)
            {
                // The write failed and stopped the other stages: its error is the one to report.
                await writing.ConfigureAwait(false);
                throw;
            }
            finally
            {
                // Every stage must be done with the buffers (and the file) before they go back.
                toHash.Writer.TryComplete();
                await stop.CancelAsync().ConfigureAwait(false);
                await WaitQuietly(hashing).ConfigureAwait(false);
                await WaitQuietly(writing).ConfigureAwait(false);
                file?.Dispose();
                foreach (var buffer in buffers)
                {
                    if (buffer.Length == ChunkSize && AlignedChunks.Count < MaxParallelCopies * ChunksPerCopy)
                    {
                        AlignedChunks.Add(buffer);
                    }
                }
            }
        }

        // On the failure path only: a stage must finish before the buffers are returned; its own error is
        // secondary to the one already propagating.
        private static async Task WaitQuietly(Task? stage)
        {
            if (stage is null)
            {
                return;
            }

            try
            {
                await stage.ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or UnauthorizedAccessException)
            {
                // Secondary to the failure being propagated.
            }
        }

        /// <summary>A target being copied into quarantine, in archive order.</summary>
        private sealed class PendingCopy
        {
            public required string Name { get; init; }

            public required long Size { get; init; }

            public required Sha256Digest Expected { get; init; }

            public required string TempPath { get; init; }

            public required string FinalPath { get; init; }

            public Sha256Digest? Digest { get; set; }

            public Task? Task { get; set; }

            public ExceptionDispatchInfo? Failure { get; set; }

            /// <summary>Bytes hashed so far by a worker (for progress; written with Interlocked).</summary>
            public long Hashed;
        }
    }
}
