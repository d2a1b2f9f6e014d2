using Enclave.Intel.Vulnerabilities.Osv;

namespace Enclave.Intel.Tests.Vulnerabilities;

/// <summary>The real OSV advisories under shared/testdata/intel/osv (the four record folders; schema/ is not a record).</summary>
internal static class OsvTestData
{
    public static readonly string[] RecordFolders = ["github-advisory-database", "golang-vulndb", "psf-advisory-database", "osv-scanner-offline-db"];

    public static OsvDatabase LoadAll()
    {
        var database = new OsvDatabase();
        foreach (var folder in RecordFolders)
        {
            OsvLoader.LoadPath(database, SharedTestData.Intel(Path.Combine("osv", folder)));
        }

        return database;
    }

    public static byte[] Record(string json) => System.Text.Encoding.UTF8.GetBytes(json);
}
