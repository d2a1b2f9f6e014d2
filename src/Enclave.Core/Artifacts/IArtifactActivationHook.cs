namespace Enclave.Core.Artifacts;

/// <summary>
/// Work that follows an airlock activation for one kind of artifact (e.g. vulnerability data of kind <c>intel</c>
/// loaded into the enclave's store). The airlock calls every hook whose <see cref="Kind"/> matches, after the artifact
/// is activated and its folder materialised; the activation stands whatever a hook does. It lives here, not in the
/// airlock, so that the assemblies that implement it (Intel) and the airlock need not reference each other.
/// </summary>
public interface IArtifactActivationHook
{
    /// <summary>The artifact kind this hook handles (<c>model</c>, <c>intel</c>, <c>dataset</c>, <c>update</c>).</summary>
    string Kind { get; }

    /// <summary>
    /// Called once per activation of an artifact of <see cref="Kind"/>. An exception is recorded by the airlock
    /// (<c>import.hook-failed</c>) and does not undo the activation; a hook should itself leave its own state
    /// unchanged when it fails.
    /// </summary>
    Task OnActivatedAsync(ArtifactActivation activation, CancellationToken cancellationToken);
}

/// <summary>An activated artifact as a hook sees it: what it is, where its files are, who activated it.</summary>
public sealed record ArtifactActivation
{
    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required string Version { get; init; }

    /// <summary>The classification label of the artifact, as a marking.</summary>
    public string Label { get; init; } = string.Empty;

    /// <summary>The airlock import it came from (<c>imp_…</c>).</summary>
    public required string ImportId { get; init; }

    /// <summary>The folder of its files (read-only links to the blob store).</summary>
    public required string Folder { get; init; }

    /// <summary>Its files: path relative to <see cref="Folder"/> ('/'-separated) and SHA-256.</summary>
    public required IReadOnlyList<ArtifactFile> Files { get; init; }

    /// <summary>The principal whose approval activated it.</summary>
    public required string ActivatedBy { get; init; }
}

/// <summary>One file of an activated artifact.</summary>
public sealed record ArtifactFile(string RelativePath, Sha256Digest Sha256, long Length);
