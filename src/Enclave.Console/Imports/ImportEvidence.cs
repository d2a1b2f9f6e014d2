using Enclave.Airlock.Import;
using Enclave.Intel.Vulnerabilities;
using Enclave.Intel.Vulnerabilities.Findings;
using Enclave.Intel.Vulnerabilities.Sbom;
using Enclave.State.Vulnerabilities;

namespace Enclave.OperatorConsole.Imports;

/// <summary>
/// What the console's import page shows beyond the import's record: the SBOM's components (read as the vulnerability
/// inventory reads them, <see cref="SbomReader"/>), the provenance (<see cref="ProvenanceReader"/>), which scanners
/// examined each file, and the vulnerability findings of its SBOM's components (the admin API's import detail's, through
/// <see cref="VulnerabilityFindingsService.Preview(byte[], string, string?)"/>: OSV matches with their KEV entry and VEX
/// status, the VEX decisions made for the activated artifact applied). Everything is read from the import's own files
/// (in quarantine while it waits, in its folder once activated), bounded: no ledger, no inventory scan.
/// </summary>
public sealed record ImportEvidence
{
    /// <summary>At most this many SBOM components and findings are shown (the rest counted).</summary>
    public const int MaxShown = 500;

    /// <summary>The SBOM, or null when the import carries none.</summary>
    public SbomEvidence? Sbom { get; init; }

    /// <summary>The provenance, or null when the import carries none.</summary>
    public ProvenanceEvidence? Provenance { get; init; }

    /// <summary>Each target file and the scanners that examined it at import.</summary>
    public required IReadOnlyList<TargetScan> Scans { get; init; }

    /// <summary>The SBOM's vulnerability findings, or null without an SBOM.</summary>
    public FindingsEvidence? Findings { get; init; }

    /// <summary>Reads the evidence of <paramref name="import"/> from its files.</summary>
    public static ImportEvidence Read(ImportRecord import, AirlockImporter importer, VulnerabilityFindingsService findings)
    {
        ArgumentNullException.ThrowIfNull(import);
        ArgumentNullException.ThrowIfNull(importer);
        ArgumentNullException.ThrowIfNull(findings);
        var scans = import.Targets
            .Select(t => importer.TargetFile(import, t) is { } path
                ? new TargetScan { Path = t.RelativePath, Type = t.Type, Scanners = importer.ScannersFor(path), Readable = true }
                : new TargetScan { Path = t.RelativePath, Type = t.Type, Scanners = [], Readable = false })
            .ToList();

        SbomEvidence? sbom = null;
        FindingsEvidence? found = null;
        if (import.Targets.FirstOrDefault(t => t.Type == "sbom") is { } sbomTarget)
        {
            (sbom, found) = ReadSbom(import, importer, findings, sbomTarget);
        }

        ProvenanceEvidence? provenance = null;
        if (import.Targets.FirstOrDefault(t => t.Type == "provenance") is { } provenanceTarget)
        {
            provenance = ReadFile(importer, import, provenanceTarget, out var bytes, out var problem) && bytes is not null
                ? ProvenanceReader.Read(bytes, provenanceTarget, import.Targets, importer.MaxAttestationBytes)
                : new ProvenanceEvidence { File = provenanceTarget.RelativePath, Verified = false, Problems = [problem!], Subjects = [], Materials = [] };
        }

        return new ImportEvidence { Sbom = sbom, Provenance = provenance, Scans = scans, Findings = found };
    }

    private static (SbomEvidence, FindingsEvidence?) ReadSbom(ImportRecord import, AirlockImporter importer, VulnerabilityFindingsService findings, ImportedTarget target)
    {
        if (!ReadFile(importer, import, target, out var bytes, out var problem) || bytes is null)
        {
            return (new SbomEvidence { File = target.RelativePath, Components = [], Problem = problem }, null);
        }

        SbomDocument document;
        try
        {
            document = SbomReader.Read(bytes, target.RelativePath, new SbomReaderOptions { MaxBytes = importer.MaxAttestationBytes });
        }
        catch (VulnerabilityDataException e)
        {
            return (new SbomEvidence { File = target.RelativePath, Components = [], Problem = "it could not be read: " + e.Message }, null);
        }

        var sbom = new SbomEvidence
        {
            File = target.RelativePath,
            Format = $"{document.Format} {document.SpecVersion}",
            Components = [.. document.Components.Take(MaxShown)],
            ComponentCount = document.Components.Count,
        };

        // An activated artifact's SBOM is in the inventory as artifact:KIND/NAME/VERSION: the VEX decisions made for it apply.
        var inventoryId = import.State == ImportState.Activated ? $"artifact:{import.Kind}/{import.Name}/{import.Version}" : null;
        try
        {
            var preview = findings.Preview(bytes, target.RelativePath, inventoryId);
            return (sbom, new FindingsEvidence
            {
                Freshness = preview.Freshness,
                Rows = [.. preview.Findings.OrderByDescending(f => f.KevCve is not null).ThenByDescending(f => f.Score ?? -1).ThenBy(f => f.Component, StringComparer.Ordinal).Take(MaxShown)],
                Count = preview.Findings.Count,
                Unknown = preview.Unknown.Count,
            });
        }
        catch (VulnerabilityDataException e)
        {
            return (sbom, new FindingsEvidence { Freshness = findings.Freshness(), Rows = [], Problem = "the SBOM could not be matched: " + e.Message });
        }
    }

    private static bool ReadFile(AirlockImporter importer, ImportRecord import, ImportedTarget target, out byte[]? bytes, out string? problem)
    {
        bytes = null;
        problem = null;
        if (importer.TargetFile(import, target) is not { } path)
        {
            problem = import.State == ImportState.Rejected ? "the import was rejected and its files removed" : "its file is gone";
            return false;
        }

        try
        {
            var length = new FileInfo(path).Length;
            if (length > importer.MaxAttestationBytes)
            {
                problem = $"it is {length} bytes; the limit is {importer.MaxAttestationBytes}";
                return false;
            }

            bytes = File.ReadAllBytes(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = "its file could not be read: " + e.Message;
            return false;
        }
    }
}

/// <summary>An import's SBOM as the import page shows it.</summary>
public sealed record SbomEvidence
{
    public required string File { get; init; }

    /// <summary>CycloneDX or SPDX and the version.</summary>
    public string? Format { get; init; }

    /// <summary>The components (at most <see cref="ImportEvidence.MaxShown"/>).</summary>
    public required IReadOnlyList<SbomComponent> Components { get; init; }

    public int ComponentCount { get; init; }

    /// <summary>Why it could not be read (null when it was).</summary>
    public string? Problem { get; init; }
}

/// <summary>One target file and the scanners that examined it.</summary>
public sealed record TargetScan
{
    public required string Path { get; init; }

    public required string Type { get; init; }

    /// <summary>The scanners that apply to it (none: no scanner looks at such a file).</summary>
    public required IReadOnlyList<string> Scanners { get; init; }

    /// <summary>False when the file is gone (a rejected import's).</summary>
    public required bool Readable { get; init; }
}

/// <summary>The vulnerability findings of an import's SBOM.</summary>
public sealed record FindingsEvidence
{
    /// <summary>How fresh the vulnerability data is (no data: nothing can be said).</summary>
    public required DataFreshness Freshness { get; init; }

    /// <summary>The findings, KEV first, then by score (at most <see cref="ImportEvidence.MaxShown"/>).</summary>
    public required IReadOnlyList<FindingRow> Rows { get; init; }

    public int Count { get; init; }

    /// <summary>Components that could not be decided about.</summary>
    public int Unknown { get; init; }

    public string? Problem { get; init; }
}
