namespace Enclave.Fuzz.Targets;

/// <summary>
/// Seeds taken from the real public data in <c>shared/testdata</c> beside the repository (each folder's README names
/// source and licence): only the small files, so that each corpus entry stays a few KB and afl++ mutates quickly.
/// </summary>
internal static class SharedSeeds
{
    private static readonly Lazy<string?> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }

            candidate = Path.Combine(dir.FullName, "..", "shared", "testdata");
            if (Directory.Exists(candidate))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    });

    /// <summary>
    /// Up to <paramref name="maxCount"/> files matching <paramref name="pattern"/> under <c>shared/testdata/RELATIVE</c>
    /// (recursively, in ordinal order) of at most <paramref name="maxBytes"/> bytes each; none when the data is absent.
    /// </summary>
    public static IEnumerable<(string Name, byte[] Bytes)> Files(string relative, string pattern, int maxCount, int maxBytes = 8192)
    {
        if (Root.Value is not { } root || !Directory.Exists(Path.Combine(root, relative)))
        {
            yield break;
        }

        var files = Directory.EnumerateFiles(Path.Combine(root, relative), pattern, SearchOption.AllDirectories)
            .Where(f => new FileInfo(f).Length <= maxBytes)
            .Order(StringComparer.Ordinal)
            .Take(maxCount);
        foreach (var file in files)
        {
            yield return ("shared-" + Path.GetFileName(file), File.ReadAllBytes(file));
        }
    }
}
