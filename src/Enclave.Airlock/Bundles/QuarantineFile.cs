using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Enclave.Airlock.Bundles;

/// <summary>
/// A quarantined target being written: on Linux opened with <c>O_DIRECT</c> where the filesystem allows it, so
/// that chunks go from the copy buffers to the device without a second copy into the page cache (which cost about
/// half the CPU of an import). Writes must then start at multiples of <see cref="Alignment"/>, from buffers aligned
/// to it, with lengths that are multiples of it: the caller writes whole chunks, and the final partial chunk is
/// padded with zeros to the next multiple and cut back to the exact length by <see cref="Complete"/>. Elsewhere, or
/// when the filesystem refuses <c>O_DIRECT</c> (<c>EINVAL</c>), the file is an ordinary one and writes go through
/// the page cache as before; either way the bytes written are those hashed.
/// </summary>
internal sealed class QuarantineFile : IDisposable
{
    /// <summary>Offset, address and length alignment for direct writes (covers 512- and 4096-byte logical blocks).</summary>
    public const int Alignment = 4096;

    private const int OWronly = 0x1;
    private const int OCreat = 0x40;
    private const int OExcl = 0x80;
    private const int OCloexec = 0x80000;
    private const int EInval = 22;
    private const int FGetfl = 3;
    private const int FSetfl = 4;
    private const int Mode = 0x1B6; // 0666 & ~umask, as FileStream creates files

    private readonly SafeFileHandle _handle;
    private readonly long _length;
    private long _written;
    private bool _padded;

    private QuarantineFile(SafeFileHandle handle, long length, bool direct)
    {
        _handle = handle;
        _length = length;
        IsDirect = direct;
    }

    /// <summary>Whether writes bypass the page cache (and so must be aligned); false after a direct write was refused.</summary>
    public bool IsDirect { get; private set; }

    /// <summary>
    /// Creates <paramref name="path"/> (which must not exist) for <paramref name="length"/> bytes, with direct writes
    /// when <paramref name="tryDirect"/>, the platform and the filesystem allow them.
    /// </summary>
    public static QuarantineFile Create(string path, long length, bool tryDirect)
    {
        if (tryDirect && OpenDirect(path) is { } direct)
        {
            return new QuarantineFile(direct, length, direct: true);
        }

        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        RandomAccess.SetLength(handle, length);
        return new QuarantineFile(handle, length, direct: false);
    }

    /// <summary>Appends the first <paramref name="length"/> bytes of <paramref name="buffer"/>; when direct, <paramref name="buffer"/> is padded in place to the alignment.</summary>
    public void Append(Memory<byte> buffer, int length)
    {
        if (length > buffer.Length || _written + length > _length)
        {
            throw new InvalidOperationException("write past the declared target length");
        }

        var count = length;
        if (IsDirect && count % Alignment != 0)
        {
            // Only the last chunk can be partial: pad it with zeros, Complete cuts the file back to the exact length.
            if (_written + length != _length)
            {
                throw new InvalidOperationException("a partial chunk before the end of a direct write");
            }

            count = checked((length + Alignment - 1) / Alignment * Alignment);
            buffer.Span[length..count].Clear();
        }

        try
        {
            RandomAccess.Write(_handle, buffer.Span[..count], _written);
        }
        catch (IOException e) when (IsDirect && e.HResult == EInval && ClearDirect())
        {
            // The filesystem took O_DIRECT at open but refuses this write (an alignment it needs beyond ours):
            // the same bytes again through the page cache, and every later write too.
            RandomAccess.Write(_handle, buffer.Span[..count], _written);
        }

        _padded |= count != length;
        _written += length;
    }

    /// <summary>Sets the exact length (removing the padding of a direct write) and flushes to disk when asked.</summary>
    public void Complete(bool flushToDisk)
    {
        if (_written != _length)
        {
            throw new InvalidOperationException($"target completed after {_written} of {_length} bytes");
        }

        if (_padded)
        {
            RandomAccess.SetLength(_handle, _length);
        }

        if (flushToDisk)
        {
            RandomAccess.FlushToDisk(_handle);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();

    /// <summary>Allocates a chunk buffer whose address is aligned for direct writes (pinned, so the address holds).</summary>
    public static Memory<byte> AllocateAligned(int length)
    {
        var array = GC.AllocateUninitializedArray<byte>(length + Alignment, pinned: true);
        var address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        var skip = (int)((Alignment - (address % Alignment)) % Alignment);
        return array.AsMemory(skip, length);
    }

    // O_DIRECT differs by architecture; on any other, or another OS, no direct writes.
    private static int DirectFlag => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

    private static SafeFileHandle? OpenDirect(string path)
    {
        if (!OperatingSystem.IsLinux() || DirectFlag == 0)
        {
            return null;
        }

        var fd = Open(path, OWronly | OCreat | OExcl | OCloexec | DirectFlag, Mode);
        if (fd >= 0)
        {
            return new SafeFileHandle(fd, ownsHandle: true);
        }

        if (Marshal.GetLastPInvokeError() == EInval)
        {
            // The filesystem refuses O_DIRECT. Linux checks that after creating the file, and O_EXCL means any file
            // there now is the one this call created: remove it and let the ordinary path create it again.
            File.Delete(path);
        }

        // Anything else (the file exists, no permission...): the ordinary path reports it as .NET does.
        return null;
    }

    // Turns O_DIRECT off on the open file (Linux allows F_SETFL to change it).
    private bool ClearDirect()
    {
        var fd = (int)_handle.DangerousGetHandle();
        var flags = Fcntl(fd, FGetfl, 0);
        if (flags < 0 || Fcntl(fd, FSetfl, flags & ~DirectFlag) < 0)
        {
            return false;
        }

        IsDirect = false;
        return true;
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this assembly does not allow.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, int mode);

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Fcntl(int fd, int command, int argument);
#pragma warning restore SYSLIB1054
}
