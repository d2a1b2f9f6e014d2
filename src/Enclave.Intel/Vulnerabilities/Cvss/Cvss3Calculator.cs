namespace Enclave.Intel.Vulnerabilities.Cvss;

/// <summary>CVSS v3.0 and v3.1 base scores by the specification's formulas (§7.1, Roundup per version, Appendix A).</summary>
public static class Cvss3Calculator
{
    private static readonly string[] Base = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        ["AV"] = "NALP", ["AC"] = "LH", ["PR"] = "NLH", ["UI"] = "NR", ["S"] = "UC", ["C"] = "HLN", ["I"] = "HLN", ["A"] = "HLN",
        ["E"] = "XUPFH", ["RL"] = "XOTWU", ["RC"] = "XURC", ["CR"] = "XLMH", ["IR"] = "XLMH", ["AR"] = "XLMH",
        ["MAV"] = "XNALP", ["MAC"] = "XLH", ["MPR"] = "XNLH", ["MUI"] = "XNR", ["MS"] = "XUC", ["MC"] = "XHLN", ["MI"] = "XHLN", ["MA"] = "XHLN",
    };

    /// <summary>Computes the base score of a <c>CVSS:3.0/...</c> or <c>CVSS:3.1/...</c> vector.</summary>
    public static CvssScore Score(string vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var v31 = vector.StartsWith("CVSS:3.1/", StringComparison.Ordinal);
        var m = CvssVector.Parse(vector, v31 ? "CVSS:3.1/" : "CVSS:3.0/", Allowed, Base);
        var changed = m["S"] == 'C';
        double Cia(char c) => c switch { 'H' => 0.56, 'L' => 0.22, _ => 0 };
        var iss = 1 - ((1 - Cia(m["C"])) * (1 - Cia(m["I"])) * (1 - Cia(m["A"])));
        var impact = changed ? (7.52 * (iss - 0.029)) - (3.25 * Math.Pow(iss - 0.02, 15)) : 6.42 * iss;
        var av = m["AV"] switch { 'N' => 0.85, 'A' => 0.62, 'L' => 0.55, _ => 0.2 };
        var ac = m["AC"] == 'L' ? 0.77 : 0.44;
        var pr = m["PR"] switch { 'N' => 0.85, 'L' => changed ? 0.68 : 0.62, _ => changed ? 0.5 : 0.27 };
        var ui = m["UI"] == 'N' ? 0.85 : 0.62;
        var exploitability = 8.22 * av * ac * pr * ui;
        double score;
        if (impact <= 0)
        {
            score = 0;
        }
        else
        {
            var raw = changed ? Math.Min(1.08 * (impact + exploitability), 10) : Math.Min(impact + exploitability, 10);
            score = v31 ? Roundup31(raw) : Math.Ceiling(raw * 10) / 10;
        }

        return new CvssScore(v31 ? "3.1" : "3.0", vector, score);
    }

    /// <summary>CVSS v3.1 Appendix A: round up to one decimal, robust to floating-point error.</summary>
    private static double Roundup31(double input)
    {
        var intInput = (long)Math.Round(input * 100_000);
        return intInput % 10_000 == 0 ? intInput / 100_000.0 : (Math.Floor(intInput / 10_000.0) + 1) / 10.0;
    }
}
