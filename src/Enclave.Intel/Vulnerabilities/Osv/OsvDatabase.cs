using Enclave.Intel.Vulnerabilities.Versions;

namespace Enclave.Intel.Vulnerabilities.Osv;

/// <summary>
/// The advisories in force: one record per id (a newer <c>modified</c> replaces an older copy; an older or equal copy is
/// ignored), indexed by (ecosystem, package name) for matching. Withdrawn records are kept (so a later withdrawal
/// replaces the live copy) but never indexed.
/// </summary>
public sealed class OsvDatabase
{
    private readonly Dictionary<string, OsvRecord> _records = new(StringComparer.Ordinal);
    private readonly List<OsvProblem> _problems = [];
    private Dictionary<PackageKey, List<IndexedAffected>>? _index;

    /// <summary>Records by id, withdrawn ones included.</summary>
    public IReadOnlyDictionary<string, OsvRecord> Records => _records;

    /// <summary>Records that were reported and skipped.</summary>
    public IReadOnlyList<OsvProblem> Problems => _problems;

    /// <summary>Adds a record; answers whether it is now the copy in force.</summary>
    public bool Add(OsvRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_records.TryGetValue(record.Id, out var existing) && existing.Modified >= record.Modified)
        {
            return false;
        }

        _records[record.Id] = record;
        _index = null;
        return true;
    }

    public void Report(OsvProblem problem) => _problems.Add(problem);

    internal void Merge(OsvDatabase other)
    {
        foreach (var record in other._records.Values)
        {
            Add(record);
        }

        _problems.AddRange(other._problems);
    }

    /// <summary>The live (not withdrawn) affected entries naming this package.</summary>
    internal IReadOnlyList<IndexedAffected> Candidates(string ecosystemBase, string normalizedName)
    {
        _index ??= BuildIndex();
        return _index.TryGetValue(new PackageKey(ecosystemBase, normalizedName), out var list) ? list : [];
    }

    private Dictionary<PackageKey, List<IndexedAffected>> BuildIndex()
    {
        var index = new Dictionary<PackageKey, List<IndexedAffected>>();
        foreach (var record in _records.Values)
        {
            if (record.Withdrawn is not null)
            {
                continue;
            }

            foreach (var affected in record.Affected)
            {
                if (affected.Ecosystem is null || affected.Name is null)
                {
                    continue;
                }

                var baseName = Ecosystems.BaseName(affected.Ecosystem);
                var key = new PackageKey(baseName, PackageNames.Normalize(baseName, affected.Name));
                if (!index.TryGetValue(key, out var list))
                {
                    list = [];
                    index[key] = list;
                }

                list.Add(new IndexedAffected(record, affected, baseName));
            }
        }

        return index;
    }

    private readonly record struct PackageKey(string Ecosystem, string Name);
}

/// <summary>One affected entry of a live record, with its ranges prepared for evaluation on first use.</summary>
internal sealed class IndexedAffected(OsvRecord record, OsvAffected affected, string ecosystemBase)
{
    private Matching.PreparedAffected? _prepared;

    public OsvRecord Record { get; } = record;

    public OsvAffected Affected { get; } = affected;

    // Idempotent: a race prepares the same immutable value twice.
    public Matching.PreparedAffected Prepared => _prepared ??= Matching.PreparedAffected.Create(Affected, ecosystemBase);
}
