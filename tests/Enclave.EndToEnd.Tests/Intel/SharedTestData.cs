namespace Enclave.EndToEnd.Tests.Intel;

/// <summary>Finds the real public data under <c>../shared/testdata/intel</c> (each folder's README names source and licence).</summary>
internal static class SharedTestData
{
    private static readonly Lazy<string> Root = new(Locate);

    /// <summary>The absolute path of <c>shared/testdata/intel/RELATIVE</c>.</summary>
    public static string Intel(string relative) => Path.Combine(Root.Value, relative);

    private static string Locate()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "testdata", "intel");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException(
            $"no shared/testdata/intel folder above {AppContext.BaseDirectory}; clone the shared data beside the repository");
    }
}
