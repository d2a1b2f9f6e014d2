using Enclave.Retrieval.Datasets;
using Enclave.Retrieval.Extraction;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// <see cref="DatasetManifest.Parse"/> (the <c>manifest.json</c> of a <c>dataset</c> bundle, read by the airlock's
/// admission check): rejection is <see cref="DocumentRejectedException"/>; anything else would fail the import as an
/// internal error instead of refusing it.
/// </summary>
internal static class DatasetManifestTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "dataset-manifest",
        Parser = "Enclave.Retrieval.Datasets.DatasetManifest",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("new-store.json", """{"vector_store_name":"field manuals","labels":{"handbook.md":"UNCLASSIFIED","notes/visits.txt":"CUI"}}"""),
            Seeds.Text("existing-store.json", """{"vector_store_id":"vs_0123456789abcdef01234567"}"""),
            Seeds.Text("empty.json", "{}"),
        ],
    };

    private static void Run(byte[] input)
    {
        try
        {
            DatasetManifest.Parse(input);
        }
        catch (DocumentRejectedException)
        {
        }
    }
}
