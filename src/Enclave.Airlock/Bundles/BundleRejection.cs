namespace Enclave.Airlock.Bundles;

/// <summary>Why a bundle archive was refused. An operator and a test can both match on it.</summary>
public enum BundleRejection
{
    /// <summary>An entry name has a <c>..</c>, <c>.</c> or empty segment, a backslash, a NUL or a control character.</summary>
    PathTraversal,

    /// <summary>An entry name is absolute (leading <c>/</c> or a drive letter).</summary>
    AbsolutePath,

    /// <summary>A symbolic or hard link entry.</summary>
    Link,

    /// <summary>A character device, block device or FIFO entry.</summary>
    DeviceFile,

    /// <summary>A directory entry (declared by the metadata or not, whatever its mode): bundles hold regular files only.</summary>
    DirectoryEntry,

    /// <summary>Two entries with the same name.</summary>
    DuplicateEntry,

    /// <summary>An entry that the verified metadata does not name, or a metadata entry after the last one (<see cref="BundleReaderOptions.LastMetadataEntry"/>).</summary>
    UndeclaredEntry,

    /// <summary>An entry, pax header or metadata file larger than allowed (checked from the header, before reading data).</summary>
    TooLarge,

    /// <summary>An entry's size differs from the length in the verified metadata.</summary>
    LengthMismatch,

    /// <summary>An entry's SHA-256 differs from the verified metadata.</summary>
    HashMismatch,

    /// <summary>The archive ends inside a header or data, or before its end-of-archive marker.</summary>
    Truncated,

    /// <summary>A header fails its checksum or has an unparseable field, an unsupported entry type, or bad pax records.</summary>
    Malformed,

    /// <summary>More entries than the configured bound.</summary>
    TooManyEntries,

    /// <summary>The verified metadata names a target that the archive does not contain.</summary>
    MissingEntry,
}
