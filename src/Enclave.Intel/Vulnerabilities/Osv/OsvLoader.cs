using System.IO.Compression;

namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>
/// Loads OSV data into an <see cref="OsvDatabase"/> from a single JSON file, a directory of them, or a zip as osv.dev
/// publishes per ecosystem (<c>all.zip</c>: one record per entry). A bad record is reported in
/// <see cref="OsvDatabase.Problems"/> and skipped; the rest applies. A bad archive (not a zip, an entry escaping the
/// archive, too many entries or bytes) is refused as a whole with a <see cref="VulnerabilityDataException"/>, and
/// nothing from it is added.
/// </summary>
public static class OsvLoader
{
    /// <summary>Loads a file (<c>.json</c> or <c>.zip</c>) or a directory (its <c>*.json</c> and <c>*.zip</c> files, recursively).</summary>
    public static void LoadPath(OsvDatabase database, string path, OsvParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(path);
        options ??= OsvParserOptions.Default;
        if (Directory.Exists(path))
        {
            var files = 0;
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (!file.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                if (++files > options.MaxDirectoryFiles)
                {
                    throw new VulnerabilityDataException(VulnerabilityDataRejection.TooManyItems, $"{path}: more than {options.MaxDirectoryFiles} files");
                }

                LoadFile(database, file, options);
            }

            return;
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"no OSV file or directory at {path}", path);
        }

        LoadFile(database, path, options);
    }

    private static void LoadFile(OsvDatabase database, string file, OsvParserOptions options)
    {
        using var stream = File.OpenRead(file);
        if (file.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            LoadArchive(database, stream, file, options);
        }
        else
        {
            LoadJson(database, stream, file, options);
        }
    }

    /// <summary>Loads one JSON document (one record, or an array of records); a bad document is a reported problem.</summary>
    public static void LoadJson(OsvDatabase database, Stream stream, string source, OsvParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        options ??= OsvParserOptions.Default;
        try
        {
            var bytes = BoundedJson.ReadAll(stream, options.MaxRecordBytes, source);
            foreach (var record in OsvParser.Parse(bytes, source, options))
            {
                database.Add(record);
            }
        }
        catch (VulnerabilityDataException ex)
        {
            database.Report(new OsvProblem(source, ex.Reason, ex.Message));
        }
    }

    /// <summary>
    /// Loads a zip of OSV records. The archive is checked as a whole first (entry count, names, declared sizes), so a
    /// bad archive adds nothing; then each entry is parsed, and a bad entry is reported and skipped.
    /// </summary>
    public static void LoadArchive(OsvDatabase database, Stream stream, string source, OsvParserOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(stream);
        options ??= OsvParserOptions.Default;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException ex)
        {
            throw new VulnerabilityDataException(VulnerabilityDataRejection.InvalidArchive, $"{source}: not a readable zip archive: {ex.Message}", ex);
        }

        using (archive)
        {
            var entries = archive.Entries;
            if (entries.Count > options.MaxArchiveEntries)
            {
                throw new VulnerabilityDataException(VulnerabilityDataRejection.TooManyItems, $"{source}: {entries.Count} entries, more than the limit of {options.MaxArchiveEntries}; nothing was loaded");
            }

            long declared = 0;
            foreach (var entry in entries)
            {
                if (IsUnsafeName(entry.FullName))
                {
                    throw new VulnerabilityDataException(VulnerabilityDataRejection.PathTraversal, $"{source}: entry \"{OsvParser.Clip(entry.FullName)}\" escapes the archive; nothing was loaded");
                }

                declared += entry.Length;
                if (declared > options.MaxArchiveBytes)
                {
                    throw new VulnerabilityDataException(VulnerabilityDataRejection.TooLarge, $"{source}: expands to more than {options.MaxArchiveBytes} bytes; nothing was loaded");
                }
            }

            var staged = new OsvDatabase();
            foreach (var entry in entries)
            {
                if (entry.FullName.EndsWith('/') || !entry.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var where = $"{source}!{entry.FullName}";
                if (entry.Length > options.MaxRecordBytes)
                {
                    staged.Report(new OsvProblem(where, VulnerabilityDataRejection.TooLarge, $"{where}: {entry.Length} bytes, larger than the limit of {options.MaxRecordBytes}"));
                    continue;
                }

                try
                {
                    using var entryStream = entry.Open();
                    LoadJson(staged, entryStream, where, options);
                }
                catch (InvalidDataException ex)
                {
                    throw new VulnerabilityDataException(VulnerabilityDataRejection.InvalidArchive, $"{where}: corrupt entry: {ex.Message}; nothing was loaded", ex);
                }
            }

            database.Merge(staged);
        }
    }

    private static bool IsUnsafeName(string name) =>
        name.Length == 0
        || name.StartsWith('/') || name.StartsWith('\\')
        || (name.Length >= 2 && name[1] == ':')
        || name.Contains('\0', StringComparison.Ordinal)
        || name.Split('/', '\\').Any(segment => segment == "..");
}
