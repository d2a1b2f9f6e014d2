using System.Globalization;
using System.Text;
using Enclave.Policy.Labels;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// The classification banner (top and bottom of every page) and the page label (the highest label of what a page
/// shows), from the enclave's label scheme. Colours come from a stylesheet (<c>/console/banner.css</c>), since the
/// console's CSP allows no inline style.
/// </summary>
public static class ClassificationBanner
{
    private static readonly Dictionary<string, string> UsualColours = new(StringComparer.OrdinalIgnoreCase)
    {
        ["UNCLASSIFIED"] = "#007a33",
        ["CUI"] = "#502b85",
        ["CONFIDENTIAL"] = "#0033a0",
        ["SECRET"] = "#c8102e",
        ["TOP SECRET"] = "#ff8c00",
    };

    private const string Grey = "#595959";

    /// <summary>The banner's text: <see cref="ConsoleOptions.BannerText"/>, or the scheme's lowest level.</summary>
    public static string Text(LabelScheme scheme, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(options);
        return string.IsNullOrWhiteSpace(options.BannerText) ? scheme.Levels[0].Name : options.BannerText.Trim();
    }

    /// <summary>
    /// The highest of <paramref name="labels"/> in the scheme's banner syntax, and its level (index into the scheme's
    /// levels). No label: the lowest level. A label the scheme cannot read counts as the scheme's highest (fail closed).
    /// </summary>
    public static (string Text, int Level) Highest(LabelScheme scheme, IEnumerable<string?> labels)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(labels);
        var highest = scheme.Lowest;
        foreach (var text in labels)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var error = scheme.TryParse(text, portion: false, out var label, out _);
            highest = highest.Join(error == MarkingError.None ? label : scheme.Highest);
        }

        return (scheme.FormatBanner(highest), highest.Level);
    }

    /// <summary>The stylesheet for the banner (<c>.banner</c>) and for each level's page label (<c>.level-N</c>).</summary>
    public static string Css(LabelScheme scheme, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        ArgumentNullException.ThrowIfNull(options);
        var text = Text(scheme, options);
        var bannerColour = options.BannerColour is { Length: > 0 } configured && ConsoleOptions.HexColour().IsMatch(configured)
            ? configured
            : ColourOf(scheme, text);
        var css = new StringBuilder();
        Rule(css, ".banner", bannerColour);
        for (var i = 0; i < scheme.Levels.Count; i++)
        {
            Rule(css, ".level-" + i.ToString(CultureInfo.InvariantCulture), UsualColours.GetValueOrDefault(scheme.Levels[i].Name, Grey));
        }

        return css.ToString();
    }

    private static string ColourOf(LabelScheme scheme, string bannerText)
    {
        // The longest level name the banner starts with ("TOP SECRET//SI" is TOP SECRET, not SECRET).
        var level = scheme.Levels
            .Where(l => bannerText.StartsWith(l.Name, StringComparison.OrdinalIgnoreCase))
            .OrderByDescending(l => l.Name.Length)
            .FirstOrDefault();
        return level is null ? Grey : UsualColours.GetValueOrDefault(level.Name, Grey);
    }

    private static void Rule(StringBuilder css, string selector, string background)
    {
        // Black text on light backgrounds (orange, yellow), white on dark ones: readable either way (WCAG contrast).
        var r = int.Parse(background.AsSpan(1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var g = int.Parse(background.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var b = int.Parse(background.AsSpan(5, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var light = (0.2126 * Linear(r)) + (0.7152 * Linear(g)) + (0.0722 * Linear(b)) > 0.179;
        css.Append(selector).Append(" { background: ").Append(background).Append("; color: ").Append(light ? "#000000" : "#ffffff").Append("; }\n");
    }

    private static double Linear(int channel)
    {
        var c = channel / 255.0;
        return c <= 0.03928 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
    }
}
