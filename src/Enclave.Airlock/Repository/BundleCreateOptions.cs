namespace Enclave.Airlock.Repository;

/// <summary>One artifact to publish and bundle (see docs/bundle-format.md).</summary>
public sealed record BundleCreateOptions
{
    /// <summary><c>model</c>, <c>update</c>, <c>intel</c> or <c>dataset</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Artifact name (one path segment).</summary>
    public required string Name { get; init; }

    /// <summary>Artifact version (one path segment).</summary>
    public required string Version { get; init; }

    /// <summary>Classification label in marking syntax, e.g. <c>UNCLASSIFIED</c> or <c>SECRET//REL TO USA, GBR</c>.</summary>
    public required string Label { get; init; }

    /// <summary>For models: <c>chat</c> or <c>embedding</c>.</summary>
    public string? Task { get; init; }

    /// <summary>Files and folders whose files become the artifact's content targets (folders: paths relative to the folder).</summary>
    public required IReadOnlyList<string> Sources { get; init; }

    /// <summary>A CycloneDX JSON or SPDX JSON SBOM.</summary>
    public string? Sbom { get; init; }

    /// <summary>An in-toto Statement v1 with a SLSA provenance v1 predicate.</summary>
    public string? Provenance { get; init; }

    /// <summary>Expiry of the new kind role, snapshot and timestamp versions (how long the bundle stays importable); default 90 days.</summary>
    public DateTimeOffset? Expires { get; init; }

    /// <summary>The bundle file (with <see cref="SplitSize"/>: the base name of its parts <c>.000</c>, <c>.001</c>...).</summary>
    public required string Output { get; init; }

    /// <summary>Split the bundle into parts of this many bytes; null for one file.</summary>
    public long? SplitSize { get; init; }

    /// <summary>Key files to sign with; default every key in the repository's <c>keys/</c>.</summary>
    public IReadOnlyList<string>? KeyFiles { get; init; }
}
