using Enclave.Policy.Labels;

namespace Enclave.Policy.Tests;

/// <summary>Small schemes for exhaustive and generated tests, and helpers mapping raw bytes to labels.</summary>
internal static class TestSchemes
{
    /// <summary>Four levels, three compartments, three codes (owner USA).</summary>
    public static LabelScheme Small { get; } = new(
        [
            new LabelLevel("UNCLASSIFIED", "U"),
            new LabelLevel("CUI", "CUI"),
            new LabelLevel("SECRET", "S"),
            new LabelLevel("TOP SECRET", "TS"),
        ],
        ["SI", "TK", "HCS"],
        ["USA", "GBR", "CAN"],
        "USA");

    /// <summary>Maps arbitrary generated values onto a label of <see cref="Small"/>.</summary>
    public static SecurityLabel Label(byte level, byte compartments, byte releasability, bool unrestricted) =>
        new(level % 4, compartments & 0b111UL, unrestricted, releasability & 0b111UL);

    /// <summary>Every label of <see cref="Small"/> with at most two compartments and two codes (60 labels).</summary>
    public static IReadOnlyList<SecurityLabel> Exhaustive { get; } = BuildExhaustive();

    private static List<SecurityLabel> BuildExhaustive()
    {
        var all = new List<SecurityLabel>();
        for (int l = 0; l < 3; l++)
        {
            for (ulong c = 0; c < 4; c++)
            {
                all.Add(new SecurityLabel(l, c, unrestricted: true, 0));
                for (ulong r = 0; r < 4; r++)
                {
                    all.Add(new SecurityLabel(l, c, unrestricted: false, r));
                }
            }
        }

        return all;
    }
}
