namespace Enclave.Airlock.Import;

/// <summary>Why the airlock refused a bundle. Operators and tests match on it; the ledger records its code.</summary>
public enum ImportRejection
{
    /// <summary>The TUF metadata failed verification; <see cref="ImportRejectedException.TufReason"/> names the check or attack.</summary>
    Tuf,

    /// <summary>The archive failed a structural, length or hash check; <see cref="ImportRejectedException.BundleReason"/> says which.</summary>
    Bundle,

    /// <summary><c>metadata/bundle.json</c> is missing or invalid, or selects no verified targets.</summary>
    Selector,

    /// <summary>A target's <c>custom.enclave</c> fields are missing or disagree with the selector or the target path.</summary>
    ArtifactMismatch,

    /// <summary>Targets of one artifact carry different classification labels.</summary>
    LabelMismatch,

    /// <summary>The artifact's label is not a valid marking in the enclave's label scheme (checked before anything is committed).</summary>
    Label,

    /// <summary>An SBOM or provenance attestation is malformed or does not describe the artifact's content.</summary>
    Attestation,

    /// <summary>A content scanner refused a file (pickle code execution, ONNX external data escaping the folder, deny-list...).</summary>
    ContentScan,

    /// <summary>A model bundle says neither task chat nor embedding, and its <c>model.onnx</c> does not show one.</summary>
    ModelTask,

    /// <summary>This kind, name and version was already imported (pending approval or activated); versions are immutable.</summary>
    AlreadyImported,

    /// <summary>No TUF root is pinned: run <c>enclave airlock trust ROOT.json</c> first.</summary>
    NotPinned,

    /// <summary>An admission check refused it (<see cref="Enclave.Core.Artifacts.IImportAdmissionCheck"/>): e.g. a digest listed by a live threat-intelligence indicator.</summary>
    Intel,

    /// <summary>A <c>dataset</c> bundle whose documents cannot be indexed: a type Enclave does not extract, a document that does not parse or is too large, a label or marking above the bundle's, a refused <c>manifest.json</c>.</summary>
    Dataset,
}
