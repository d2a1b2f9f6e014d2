using Enclave.Fuzz.Targets;

namespace Enclave.Fuzz;

/// <summary>Every harness, by name. A new parser of untrusted input gets one here (fuzz/README.md).</summary>
internal static class Harnesses
{
    public static IReadOnlyList<Harness> All { get; } =
    [
        BundleTarget.Harness,
        TufTarget.Harness,
        CanonicalJsonTarget.Harness,
        OpenAiRequestTarget.Harness,
        ScannerTargets.Pickle,
        ScannerTargets.Onnx,
        ScannerTargets.Gguf,
        ScannerTargets.Safetensors,
        TokenizerTarget.Harness,
        JinjaTarget.Harness,
        JwksTarget.Harness,
        SseTarget.Harness,
        NoteTargets.SignedNote,
        NoteTargets.Checkpoint,
        TileTarget.Harness,
        IntelTargets.StixBundle,
        IntelTargets.StixPattern,
        IntelTargets.Misp,
        IntelTargets.Osv,
        IntelTargets.Sbom,
        IntelTargets.Vex,
        IntelTargets.Kev,
        IntelTargets.Sigma,
        AdminRequestTarget.Harness,
        JsonSchemaTarget.Harness,
        ReleaseArchiveTarget.Harness,
        DocumentTarget.Harness,
        DatasetManifestTarget.Harness,
        ToolCallsTarget.Harness,
        VendorAnswerTarget.Harness,
    ];

    public static Harness? Find(string name) => All.FirstOrDefault(h => h.Name == name);
}
