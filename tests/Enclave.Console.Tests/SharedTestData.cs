namespace Enclave.OperatorConsole.Tests;

/// <summary>Finds the real public data under <c>../shared/testdata/intel</c> and files of the repository itself.</summary>
internal static class SharedTestData
{
    private static readonly Lazy<string> Root = new(() => Locate(dir => Path.Combine(dir, "shared", "testdata", "intel"), Directory.Exists, "shared/testdata/intel"));
    private static readonly Lazy<string> RepositoryRoot = new(() => Locate(dir => dir, dir => File.Exists(Path.Combine(dir, "Enclave.slnx")), "Enclave.slnx"));

    /// <summary>The absolute path of <c>shared/testdata/intel/RELATIVE</c>.</summary>
    public static string Intel(string relative) => Path.Combine(Root.Value, relative);

    /// <summary>The absolute path of a file of this repository.</summary>
    public static string Repository(string relative) => Path.Combine(RepositoryRoot.Value, relative);

    private static string Locate(Func<string, string> candidateOf, Func<string, bool> exists, string what)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = candidateOf(dir.FullName);
            if (exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"no {what} above {AppContext.BaseDirectory}; clone the shared data beside the repository");
    }
}
