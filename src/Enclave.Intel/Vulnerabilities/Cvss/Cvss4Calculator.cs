namespace Enclave.Intel.Vulnerabilities.Cvss;

/// <summary>
/// CVSS v4.0 scores by the specification's MacroVector method (§8): the vector's equivalence classes EQ1..EQ6 select
/// a MacroVector and its score; the score is lowered by the mean, over the EQs that have a next-lower MacroVector, of
/// (score difference to that MacroVector) × (the vector's severity distance from the MacroVector's highest-severity
/// vector ÷ the MacroVector's depth); rounded to one decimal. Threat (E) and environmental (CR/IR/AR, M*) metrics are
/// honoured when present (E:X = A, CR/IR/AR:X = H); supplemental metrics do not change the score.
/// </summary>
public static class Cvss4Calculator
{
    private static readonly string[] Base = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];

    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        ["AV"] = "NALP", ["AC"] = "LH", ["AT"] = "NP", ["PR"] = "NLH", ["UI"] = "NPA",
        ["VC"] = "HLN", ["VI"] = "HLN", ["VA"] = "HLN", ["SC"] = "HLN", ["SI"] = "HLN", ["SA"] = "HLN",
        ["E"] = "XAPU", ["CR"] = "XHML", ["IR"] = "XHML", ["AR"] = "XHML",
        ["MAV"] = "XNALP", ["MAC"] = "XLH", ["MAT"] = "XNP", ["MPR"] = "XNLH", ["MUI"] = "XNPA",
        ["MVC"] = "XHLN", ["MVI"] = "XHLN", ["MVA"] = "XHLN", ["MSC"] = "XHLN", ["MSI"] = "XSHLN", ["MSA"] = "XSHLN",
        ["S"] = "XNP", ["AU"] = "XNY", ["R"] = "XAUI", ["V"] = "XDC", ["RE"] = "XLMH", ["U"] = "XCGAR",
    };

    /// <summary>Computes the score of a <c>CVSS:4.0/...</c> vector.</summary>
    public static CvssScore Score(string vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        if (vector.Contains("/U:", StringComparison.Ordinal))
        {
            // U (provider urgency) takes words (Clear, Green, Amber, Red): drop it before the one-letter parser.
            var parts = vector.Split('/').Where(p => !p.StartsWith("U:", StringComparison.Ordinal));
            vector = string.Join('/', parts);
        }

        var selected = CvssVector.Parse(vector, "CVSS:4.0/", Allowed, Base);
        return new CvssScore("4.0", vector, Compute(selected));
    }

    /// <summary>The effective value of a metric: the modified metric where set, worst-case defaults for E/CR/IR/AR.</summary>
    private static char M(Dictionary<string, char> s, string metric)
    {
        var value = s.TryGetValue(metric, out var v) ? v : 'X';
        if (metric == "E" && value == 'X')
        {
            return 'A';
        }

        if (metric is "CR" or "IR" or "AR" && value == 'X')
        {
            return 'H';
        }

        if (s.TryGetValue("M" + metric, out var modified) && modified != 'X')
        {
            return modified;
        }

        return value;
    }

    private static double Compute(Dictionary<string, char> s)
    {
        if (new[] { "VC", "VI", "VA", "SC", "SI", "SA" }.All(metric => M(s, metric) == 'N'))
        {
            return 0.0;
        }

        char av = M(s, "AV"), pr = M(s, "PR"), ui = M(s, "UI"), ac = M(s, "AC"), at = M(s, "AT");
        char vc = M(s, "VC"), vi = M(s, "VI"), va = M(s, "VA"), sc = M(s, "SC"), si = M(s, "SI"), sa = M(s, "SA");
        char e = M(s, "E"), cr = M(s, "CR"), ir = M(s, "IR"), ar = M(s, "AR");
        var msi = s.TryGetValue("MSI", out var msiValue) ? msiValue : 'X';
        var msa = s.TryGetValue("MSA", out var msaValue) ? msaValue : 'X';

        var eq1 = av == 'N' && pr == 'N' && ui == 'N' ? 0 : (av == 'N' || pr == 'N' || ui == 'N') && av != 'P' ? 1 : 2;
        var eq2 = ac == 'L' && at == 'N' ? 0 : 1;
        var eq3 = vc == 'H' && vi == 'H' ? 0 : vc == 'H' || vi == 'H' || va == 'H' ? 1 : 2;
        var eq4 = msi == 'S' || msa == 'S' ? 0 : sc == 'H' || si == 'H' || sa == 'H' ? 1 : 2;
        var eq5 = e switch { 'A' => 0, 'P' => 1, _ => 2 };
        var eq6 = (cr == 'H' && vc == 'H') || (ir == 'H' && vi == 'H') || (ar == 'H' && va == 'H') ? 0 : 1;

        var value = Lookup(eq1, eq2, eq3, eq4, eq5, eq6)!.Value;

        var nextEq1 = Lookup(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
        var nextEq2 = Lookup(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
        double? nextEq3Eq6 = (eq3, eq6) switch
        {
            (1, 1) or (0, 1) => Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6),
            (1, 0) => Lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1),
            (0, 0) => Max(Lookup(eq1, eq2, eq3, eq4, eq5, eq6 + 1), Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6)),
            _ => Lookup(eq1, eq2, eq3 + 1, eq4, eq5, eq6 + 1),
        };
        var nextEq4 = Lookup(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
        var nextEq5 = Lookup(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

        // The first highest-severity vector of this MacroVector that the vector does not exceed in any metric.
        double dAV = 0, dPR = 0, dUI = 0, dAC = 0, dAT = 0, dVC = 0, dVI = 0, dVA = 0, dSC = 0, dSI = 0, dSA = 0, dCR = 0, dIR = 0, dAR = 0;
        foreach (var max in MaxVectors(eq1, eq2, eq3, eq4, eq5, eq6))
        {
            dAV = Level("AV", av) - Level("AV", Extract(max, "AV"));
            dPR = Level("PR", pr) - Level("PR", Extract(max, "PR"));
            dUI = Level("UI", ui) - Level("UI", Extract(max, "UI"));
            dAC = Level("AC", ac) - Level("AC", Extract(max, "AC"));
            dAT = Level("AT", at) - Level("AT", Extract(max, "AT"));
            dVC = Level("VC", vc) - Level("VC", Extract(max, "VC"));
            dVI = Level("VI", vi) - Level("VI", Extract(max, "VI"));
            dVA = Level("VA", va) - Level("VA", Extract(max, "VA"));
            dSC = Level("SC", sc) - Level("SC", Extract(max, "SC"));
            dSI = Level("SI", si) - Level("SI", Extract(max, "SI"));
            dSA = Level("SA", sa) - Level("SA", Extract(max, "SA"));
            dCR = Level("CR", cr) - Level("CR", Extract(max, "CR"));
            dIR = Level("IR", ir) - Level("IR", Extract(max, "IR"));
            dAR = Level("AR", ar) - Level("AR", Extract(max, "AR"));
            if (!new[] { dAV, dPR, dUI, dAC, dAT, dVC, dVI, dVA, dSC, dSI, dSA, dCR, dIR, dAR }.Any(d => d < 0))
            {
                break;
            }
        }

        const double step = 0.1;
        var distanceEq1 = dAV + dPR + dUI;
        var distanceEq2 = dAC + dAT;
        var distanceEq3Eq6 = dVC + dVI + dVA + dCR + dIR + dAR;
        var distanceEq4 = dSC + dSI + dSA;

        var existing = 0;
        var total = 0.0;
        if (nextEq1 is { } n1)
        {
            existing++;
            total += (value - n1) * (distanceEq1 / (Cvss4MacroVectors.Eq1Depth[eq1] * step));
        }

        if (nextEq2 is { } n2)
        {
            existing++;
            total += (value - n2) * (distanceEq2 / (Cvss4MacroVectors.Eq2Depth[eq2] * step));
        }

        if (nextEq3Eq6 is { } n36)
        {
            existing++;
            total += (value - n36) * (distanceEq3Eq6 / (Cvss4MacroVectors.Eq3Eq6Depth[eq3][eq6] * step));
        }

        if (nextEq4 is { } n4)
        {
            existing++;
            total += (value - n4) * (distanceEq4 / (Cvss4MacroVectors.Eq4Depth[eq4] * step));
        }

        if (nextEq5 is not null)
        {
            existing++; // EQ5's proportion is always 0
        }

        var mean = existing == 0 ? 0 : total / existing;
        var score = Math.Clamp(value - mean, 0.0, 10.0);
        return Math.Floor((score * 10) + 0.5) / 10; // JavaScript Math.round, as the reference calculator
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double? Lookup(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) =>
        Cvss4MacroVectors.Scores.TryGetValue($"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}", out var score) ? score : null;

    private static IEnumerable<string> MaxVectors(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6)
    {
        foreach (var a in Cvss4MacroVectors.Eq1Max[eq1])
        {
            foreach (var b in Cvss4MacroVectors.Eq2Max[eq2])
            {
                foreach (var c in Cvss4MacroVectors.Eq3Eq6Max[eq3][eq6])
                {
                    foreach (var d in Cvss4MacroVectors.Eq4Max[eq4])
                    {
                        foreach (var f in Cvss4MacroVectors.Eq5Max[eq5])
                        {
                            yield return a + b + c + d + f;
                        }
                    }
                }
            }
        }
    }

    private static char Extract(string vector, string metric)
    {
        var at = vector.IndexOf(metric + ":", StringComparison.Ordinal);
        return vector[at + metric.Length + 1];
    }

    private static double Level(string metric, char value) => metric switch
    {
        "AV" => value switch { 'N' => 0.0, 'A' => 0.1, 'L' => 0.2, _ => 0.3 },
        "PR" => value switch { 'N' => 0.0, 'L' => 0.1, _ => 0.2 },
        "UI" => value switch { 'N' => 0.0, 'P' => 0.1, _ => 0.2 },
        "AC" => value == 'L' ? 0.0 : 0.1,
        "AT" => value == 'N' ? 0.0 : 0.1,
        "VC" or "VI" or "VA" => value switch { 'H' => 0.0, 'L' => 0.1, _ => 0.2 },
        "SC" => value switch { 'H' => 0.1, 'L' => 0.2, _ => 0.3 },
        "SI" or "SA" => value switch { 'S' => 0.0, 'H' => 0.1, 'L' => 0.2, _ => 0.3 },
        _ => value switch { 'H' => 0.0, 'M' => 0.1, _ => 0.2 }, // CR, IR, AR
    };
}
