namespace Enclave.Policy.Labels;

/// <summary>
/// A classification label: a level, a set of compartments and a releasability, all relative to one
/// <see cref="LabelScheme"/> (compartments and country codes are bits assigned by the scheme, so lattice
/// operations are a few integer instructions). Create labels with <see cref="LabelScheme.Create"/> or the
/// scheme's parsers; format them with <see cref="LabelScheme.FormatBanner"/>.
/// </summary>
/// <remarks>
/// <para>Order. <c>a.Dominates(b)</c> answers "may data labelled <c>b</c> flow to a user cleared, or a system
/// accredited, at <c>a</c>?". It holds when a's level is at least b's, a holds every compartment of b, and
/// a's releasability is no wider than b's: the audience behind <c>a</c> must be a subset of the audience
/// <c>b</c> may be released to. Example: data marked <c>SECRET//REL TO USA, GBR</c> may flow to a backend
/// accredited <c>SECRET//NOFORN</c> (audience {USA} ⊆ {USA, GBR}), but data marked <c>SECRET//NOFORN</c> may
/// not flow to a backend accredited <c>SECRET//REL TO USA, GBR</c>, which may serve British users. An
/// unrestricted releasability is the widest audience (everyone), so a clearance with no caveat can receive
/// only data with no caveat; give enclave users and systems the owner's releasability (NOFORN) as their
/// clearance caveat.</para>
/// <para>Lattice. <see cref="Join"/> takes the higher level, the union of compartments and the intersection
/// of releasabilities; <see cref="Meet"/> the lower level, the intersection of compartments and the union of
/// releasabilities. Joining disjoint releasabilities (REL TO GBR with NOFORN) gives an empty REL TO set:
/// releasable to nobody, which no ordinary clearance dominates, so such data is denied everywhere.</para>
/// <para><c>default(SecurityLabel)</c> is the lowest level releasable to nobody; use
/// <see cref="LabelScheme.Lowest"/> for "UNCLASSIFIED, no caveat".</para>
/// </remarks>
public readonly record struct SecurityLabel
{
    /// <summary>Creates a label from raw scheme bits; prefer <see cref="LabelScheme.Create"/>.</summary>
    /// <param name="level">Index of the level in <see cref="LabelScheme.Levels"/> (0 is the lowest).</param>
    /// <param name="compartmentMask">Bit i set when the scheme's compartment i is held.</param>
    /// <param name="unrestricted">True when the data carries no releasability caveat.</param>
    /// <param name="releasabilityMask">Bit i set when releasable to the scheme's code i; ignored when unrestricted.</param>
    public SecurityLabel(int level, ulong compartmentMask, bool unrestricted, ulong releasabilityMask)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        Level = level;
        CompartmentMask = compartmentMask;
        IsUnrestricted = unrestricted;
        ReleasabilityMask = unrestricted ? 0UL : releasabilityMask;
    }

    /// <summary>Index of the level in the scheme's ordered levels; higher is more sensitive.</summary>
    public int Level { get; }

    /// <summary>Compartments held, one bit per scheme compartment.</summary>
    public ulong CompartmentMask { get; }

    /// <summary>True when releasable to anyone (no REL TO or NOFORN caveat).</summary>
    public bool IsUnrestricted { get; }

    /// <summary>When restricted, the codes this label is releasable to, one bit per scheme code.</summary>
    public ulong ReleasabilityMask { get; }

    /// <summary>True when data labelled <paramref name="other"/> may flow to this label (see remarks on the type).</summary>
    public bool Dominates(SecurityLabel other) =>
        Level >= other.Level
        && (other.CompartmentMask & ~CompartmentMask) == 0
        && ReleasabilityNoWiderThan(other);

    /// <summary>Least upper bound: the lowest label that dominates both.</summary>
    public SecurityLabel Join(SecurityLabel other)
    {
        bool unrestricted = IsUnrestricted && other.IsUnrestricted;
        ulong rel = (IsUnrestricted, other.IsUnrestricted) switch
        {
            (true, true) => 0UL,
            (true, false) => other.ReleasabilityMask,
            (false, true) => ReleasabilityMask,
            _ => ReleasabilityMask & other.ReleasabilityMask,
        };
        return new SecurityLabel(Math.Max(Level, other.Level), CompartmentMask | other.CompartmentMask, unrestricted, rel);
    }

    /// <summary>Greatest lower bound: the highest label both dominate.</summary>
    public SecurityLabel Meet(SecurityLabel other)
    {
        bool unrestricted = IsUnrestricted || other.IsUnrestricted;
        return new SecurityLabel(
            Math.Min(Level, other.Level),
            CompartmentMask & other.CompartmentMask,
            unrestricted,
            unrestricted ? 0UL : ReleasabilityMask | other.ReleasabilityMask);
    }

    private bool ReleasabilityNoWiderThan(SecurityLabel other)
    {
        if (other.IsUnrestricted)
        {
            return true;
        }

        return !IsUnrestricted && (ReleasabilityMask & ~other.ReleasabilityMask) == 0;
    }
}
