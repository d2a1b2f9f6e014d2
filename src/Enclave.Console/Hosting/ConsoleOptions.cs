using System.Text.RegularExpressions;

namespace Enclave.OperatorConsole.Hosting;

/// <summary>
/// The <c>Console</c> configuration section: the classification banner shown top and bottom of every page and the
/// session's idle timeout, and console single sign-on (<see cref="Oidc"/>). Validated on start (every problem listed).
/// </summary>
public sealed partial class ConsoleOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Console";

    /// <summary>
    /// The banner's text: the highest classification this enclave is accredited for, in the label scheme's banner
    /// syntax (e.g. <c>SECRET//NOFORN</c>). Empty: the scheme's lowest level (<c>UNCLASSIFIED</c> by default).
    /// </summary>
    public string? BannerText { get; set; }

    /// <summary>
    /// The banner's background colour, <c>#rrggbb</c>. Empty: the usual colour of the banner's level (UNCLASSIFIED
    /// green, CUI purple, CONFIDENTIAL blue, SECRET red, TOP SECRET orange), grey for a level without one.
    /// </summary>
    public string? BannerColour { get; set; }

    /// <summary>
    /// A console session ends after this long without an action of the person (a page or a form; an open page's live
    /// parts do not count): 10 seconds to 12 hours, default 20 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Single sign-on to the console (<c>Console:Oidc</c>): authorization code + PKCE; off unless configured.</summary>
    public ConsoleOidcOptions Oidc { get; set; } = new();

    /// <summary>Every problem with these options, for <c>ValidateOnStart</c>.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (BannerText is { Length: > 0 } text && (text.Length > 128 || !PrintableAscii().IsMatch(text)))
        {
            problems.Add($"Console:BannerText must be at most 128 printable ASCII characters, such as SECRET//NOFORN (was {text.Length} characters)");
        }

        if (BannerColour is { Length: > 0 } colour && !HexColour().IsMatch(colour))
        {
            problems.Add($"Console:BannerColour must be a colour like #c8102e, not '{(colour.Length > 16 ? colour[..16] + "…" : colour)}'");
        }

        if (IdleTimeout < TimeSpan.FromSeconds(10) || IdleTimeout > TimeSpan.FromHours(12))
        {
            problems.Add($"Console:IdleTimeout must be between 00:00:10 and 12:00:00, not {IdleTimeout}");
        }

        problems.AddRange(Oidc.Validate());
        return problems;
    }

    [GeneratedRegex("^[\\x20-\\x7e]+\\z")]
    private static partial Regex PrintableAscii();

    [GeneratedRegex("^#[0-9a-fA-F]{6}\\z")]
    internal static partial Regex HexColour();
}
