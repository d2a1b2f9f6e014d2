using Enclave.Policy.Labels;
using FsCheck.Xunit;

namespace Enclave.Policy.Tests;

public sealed class LabelLatticeProperties
{
    private static SecurityLabel L(byte l, byte c, byte r, bool u) => TestSchemes.Label(l, c, r, u);

    [Property(MaxTest = 500)]
    public bool Dominates_IsReflexive(byte l, byte c, byte r, bool u) => L(l, c, r, u).Dominates(L(l, c, r, u));

    [Property(MaxTest = 2000)]
    public bool Dominates_IsAntisymmetric(byte l1, byte c1, byte r1, bool u1, byte l2, byte c2, byte r2, bool u2)
    {
        SecurityLabel a = L(l1, c1, r1, u1), b = L(l2, c2, r2, u2);
        return !(a.Dominates(b) && b.Dominates(a)) || a == b;
    }

    [Property(MaxTest = 2000)]
    public bool Dominates_IsTransitive(byte l1, byte c1, byte r1, bool u1, byte l2, byte c2, byte r2, bool u2, byte l3, byte c3, byte r3, bool u3)
    {
        SecurityLabel a = L(l1, c1, r1, u1), b = L(l2, c2, r2, u2), c = L(l3, c3, r3, u3);
        return !(a.Dominates(b) && b.Dominates(c)) || a.Dominates(c);
    }

    [Property(MaxTest = 2000)]
    public bool Join_IsAnUpperBound_AndBelowEveryUpperBound(byte l1, byte c1, byte r1, bool u1, byte l2, byte c2, byte r2, bool u2, byte l3, byte c3, byte r3, bool u3)
    {
        SecurityLabel a = L(l1, c1, r1, u1), b = L(l2, c2, r2, u2), x = L(l3, c3, r3, u3);
        SecurityLabel j = a.Join(b);
        bool upper = j.Dominates(a) && j.Dominates(b);
        bool least = !(x.Dominates(a) && x.Dominates(b)) || x.Dominates(j);

        // Make the "least" half bite: the join of the bound with anything it dominates is itself.
        bool leastDirect = a.Join(b).Join(j) == j && j.Join(a) == j;
        return upper && least && leastDirect;
    }

    [Property(MaxTest = 2000)]
    public bool Meet_IsALowerBound_AndAboveEveryLowerBound(byte l1, byte c1, byte r1, bool u1, byte l2, byte c2, byte r2, bool u2, byte l3, byte c3, byte r3, bool u3)
    {
        SecurityLabel a = L(l1, c1, r1, u1), b = L(l2, c2, r2, u2), x = L(l3, c3, r3, u3);
        SecurityLabel m = a.Meet(b);
        bool lower = a.Dominates(m) && b.Dominates(m);
        bool greatest = !(a.Dominates(x) && b.Dominates(x)) || m.Dominates(x);
        return lower && greatest;
    }

    [Property(MaxTest = 1000)]
    public bool JoinAndMeet_AreCommutative_AndAbsorb(byte l1, byte c1, byte r1, bool u1, byte l2, byte c2, byte r2, bool u2)
    {
        SecurityLabel a = L(l1, c1, r1, u1), b = L(l2, c2, r2, u2);
        return a.Join(b) == b.Join(a)
            && a.Meet(b) == b.Meet(a)
            && a.Join(a.Meet(b)) == a
            && a.Meet(a.Join(b)) == a;
    }

    [Fact]
    public void Lattice_HoldsExhaustively_OverSixtyLabels()
    {
        var all = TestSchemes.Exhaustive;
        foreach (SecurityLabel a in all)
        {
            Assert.True(a.Dominates(a));
            foreach (SecurityLabel b in all)
            {
                SecurityLabel j = a.Join(b), m = a.Meet(b);
                Assert.True(!(a.Dominates(b) && b.Dominates(a)) || a == b);
                Assert.True(j.Dominates(a) && j.Dominates(b));
                Assert.True(a.Dominates(m) && b.Dominates(m));
                foreach (SecurityLabel x in all)
                {
                    if (a.Dominates(b) && b.Dominates(x))
                    {
                        Assert.True(a.Dominates(x));
                    }

                    if (x.Dominates(a) && x.Dominates(b))
                    {
                        Assert.True(x.Dominates(j), $"{x} is an upper bound of {a} and {b} but not above their join {j}");
                    }

                    if (a.Dominates(x) && b.Dominates(x))
                    {
                        Assert.True(m.Dominates(x), $"{x} is a lower bound of {a} and {b} but not below their meet {m}");
                    }
                }
            }
        }
    }

    [Fact]
    public void Dominates_ReleasabilityNoWider_FlowsFromWiderToNarrower()
    {
        var s = LabelScheme.Default;
        SecurityLabel relUsaGbr = s.ParseBanner("SECRET//REL TO USA, GBR");
        SecurityLabel noforn = s.ParseBanner("SECRET//NOFORN");

        // REL TO USA, GBR data may go to a NOFORN-accredited system: its audience {USA} is within {USA, GBR}.
        Assert.True(noforn.Dominates(relUsaGbr));

        // NOFORN data may not go to a system that also serves GBR.
        Assert.False(relUsaGbr.Dominates(noforn));

        // Data with no caveat may go anywhere at or above its level; caveated data never to an uncaveated clearance.
        Assert.True(noforn.Dominates(s.ParseBanner("SECRET")));
        Assert.False(s.ParseBanner("TOP SECRET").Dominates(noforn));
    }

    [Fact]
    public void Dominates_RequiresLevelAndCompartments()
    {
        var s = LabelScheme.Default;
        Assert.True(s.ParseBanner("TOP SECRET//SI/TK").Dominates(s.ParseBanner("SECRET//SI")));
        Assert.False(s.ParseBanner("TOP SECRET//TK").Dominates(s.ParseBanner("SECRET//SI")));
        Assert.False(s.ParseBanner("SECRET//SI").Dominates(s.ParseBanner("TOP SECRET")));
    }

    [Fact]
    public void Join_OfDisjointReleasabilities_IsReleasableToNobody_AndNothingOrdinaryDominatesIt()
    {
        var s = LabelScheme.Default;
        SecurityLabel j = s.ParseBanner("SECRET//REL TO GBR").Join(s.ParseBanner("SECRET//NOFORN"));
        Assert.False(j.IsUnrestricted);
        Assert.Equal(0UL, j.ReleasabilityMask);
        Assert.Equal("SECRET//REL TO (NONE)", s.FormatBanner(j));
        Assert.False(s.ParseBanner("TOP SECRET//NOFORN").Dominates(j));
        Assert.True(s.Highest.Dominates(j));
    }
}
