using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Enclave.Inference.Packaged;

/// <summary>One manifest resource embedded in a .NET assembly: its name and where its bytes lie in the file.</summary>
/// <param name="Name">The resource's manifest name.</param>
/// <param name="FileOffset">Offset of the first byte of the resource in the assembly file.</param>
/// <param name="Length">Length of the resource in bytes.</param>
public sealed record AssemblyResource(string Name, long FileOffset, long Length);

/// <summary>
/// Reads the embedded manifest resources of a .NET assembly with System.Reflection.Metadata, never loading the
/// assembly: no code of it runs, and it may target any framework. Every offset is checked against the CLI header's
/// resources directory and the file's length.
/// </summary>
public static class AssemblyResources
{
    /// <summary>The embedded resources of the assembly at <paramref name="path"/>.</summary>
    /// <exception cref="PackagedModelException">The file is not a .NET assembly, or a resource lies outside its resources directory.</exception>
    public static IReadOnlyList<AssemblyResource> List(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor)
            {
                throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path} is not a .NET assembly (no CLI header)");
            }

            var resources = new List<AssemblyResource>();
            var metadata = pe.GetMetadataReader();
            DirectoryEntry directory = cor.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out int directoryOffset))
            {
                return resources;
            }

            byte[] prefix = new byte[4];
            foreach (ManifestResourceHandle handle in metadata.ManifestResources)
            {
                ManifestResource resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil)
                {
                    continue; // lives in another file or assembly
                }

                string name = metadata.GetString(resource.Name);
                long offset = resource.Offset;
                if (offset < 0 || offset + 4 > directory.Size || directoryOffset + offset + 4 > stream.Length)
                {
                    throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path}: resource '{name}' starts outside the resources directory");
                }

                stream.Position = directoryOffset + offset;
                stream.ReadExactly(prefix);
                long length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(prefix);
                if (offset + 4 + length > directory.Size || directoryOffset + offset + 4 + length > stream.Length)
                {
                    throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path}: resource '{name}' of {length} bytes runs past the resources directory");
                }

                resources.Add(new AssemblyResource(name, directoryOffset + offset + 4, length));
            }

            return resources;
        }
        catch (BadImageFormatException e)
        {
            throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path} is not a valid .NET assembly ({e.Message})", e);
        }
        catch (EndOfStreamException e)
        {
            throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path} is truncated ({e.Message})", e);
        }
    }

    /// <summary>Opens a read-only stream over <paramref name="resource"/>'s bytes in the assembly at <paramref name="path"/>.</summary>
    public static Stream Open(string path, AssemblyResource resource)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(resource);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return new SliceStream(file, resource.FileOffset, resource.Length);
    }

    /// <summary>A window of a file, read forward only.</summary>
    private sealed class SliceStream(FileStream file, long start, long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long left = length - _position;
            if (left <= 0)
            {
                return 0;
            }

            if (_position == 0 && file.Position != start)
            {
                file.Position = start;
            }

            int read = file.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
            if (read == 0)
            {
                throw new EndOfStreamException($"the assembly ended {left} bytes before the end of the resource");
            }

            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
