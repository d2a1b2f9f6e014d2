using System.Collections.Frozen;
using Enclave.Policy.Labels;

namespace Enclave.Policy.Decisions;

/// <summary>
/// Which jurisdictions may process data of each level. A level with no entry allows no jurisdiction (fail
/// closed). Lookups are by the request label's level.
/// </summary>
public sealed class JurisdictionPolicy
{
    private readonly FrozenSet<string>[] _byLevel;

    /// <summary>Creates the policy from level names to allowed jurisdiction codes.</summary>
    /// <exception cref="ArgumentException">A level is not in the scheme.</exception>
    public JurisdictionPolicy(LabelScheme scheme, IReadOnlyDictionary<string, IReadOnlyList<string>> allowedByLevel)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(allowedByLevel);
        _byLevel = new FrozenSet<string>[scheme.Levels.Count];
        var problems = new List<string>();
        foreach (var (levelName, jurisdictions) in allowedByLevel)
        {
            int index = -1;
            for (int i = 0; i < scheme.Levels.Count; i++)
            {
                if (scheme.Levels[i].Name == levelName)
                {
                    index = i;
                }
            }

            if (index < 0)
            {
                problems.Add($"level '{levelName}' is not in the label scheme");
                continue;
            }

            _byLevel[index] = jurisdictions.ToFrozenSet(StringComparer.Ordinal);
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid jurisdiction policy: " + string.Join("; ", problems), nameof(allowedByLevel));
        }

        for (int i = 0; i < _byLevel.Length; i++)
        {
            _byLevel[i] ??= FrozenSet<string>.Empty;
        }
    }

    /// <summary>True when <paramref name="jurisdiction"/> may process data labelled <paramref name="label"/>.</summary>
    public bool IsAllowed(SecurityLabel label, string jurisdiction) =>
        (uint)label.Level < (uint)_byLevel.Length && _byLevel[label.Level].Contains(jurisdiction);

    /// <summary>The jurisdictions allowed at a level.</summary>
    public IReadOnlySet<string> AllowedAt(int level) =>
        (uint)level < (uint)_byLevel.Length ? _byLevel[level] : FrozenSet<string>.Empty;
}
