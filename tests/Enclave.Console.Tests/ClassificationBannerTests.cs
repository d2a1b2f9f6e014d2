using Enclave.OperatorConsole.Hosting;
using Enclave.Policy.Labels;

namespace Enclave.OperatorConsole.Tests;

/// <summary>The classification banner and the page label, from the label scheme; the console's options.</summary>
public sealed class ClassificationBannerTests
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;

    [Fact]
    public void Banner_DefaultsToTheSchemesLowestLevel_InItsUsualColour()
    {
        var options = new ConsoleOptions();
        Assert.Equal("UNCLASSIFIED", ClassificationBanner.Text(Scheme, options));
        Assert.Contains(".banner { background: #007a33; color: #ffffff; }", ClassificationBanner.Css(Scheme, options), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SECRET//NOFORN", null, ".banner { background: #c8102e; color: #ffffff; }")]
    [InlineData("TOP SECRET//SI", null, ".banner { background: #ff8c00; color: #000000; }")]
    [InlineData("SECRET", "#fce83a", ".banner { background: #fce83a; color: #000000; }")]
    public void Banner_TakesTheConfiguredText_AndTheColourOfItsLevelOrTheConfiguredOne(string text, string? colour, string rule)
    {
        var options = new ConsoleOptions { BannerText = text, BannerColour = colour };
        Assert.Equal(text, ClassificationBanner.Text(Scheme, options));
        Assert.Contains(rule, ClassificationBanner.Css(Scheme, options), StringComparison.Ordinal);
    }

    [Fact]
    public void PageLabel_IsTheJoinOfWhatThePageShows()
    {
        var (text, level) = ClassificationBanner.Highest(Scheme, ["UNCLASSIFIED", null, "SECRET//SI", "CUI"]);
        Assert.Equal(Scheme.FormatBanner(Scheme.ParseBanner("SECRET//SI")), text);
        Assert.Equal(2, level);
        Assert.Equal(("UNCLASSIFIED", 0), ClassificationBanner.Highest(Scheme, []));
    }

    [Fact]
    public void PageLabel_CountsAnUnreadableLabelAsTheHighest_FailingClosed()
    {
        var (_, level) = ClassificationBanner.Highest(Scheme, ["UNCLASSIFIED", "NOT A MARKING"]);
        Assert.Equal(Scheme.Levels.Count - 1, level);
    }

    [Fact]
    public void Options_ListEveryProblem()
    {
        var problems = new ConsoleOptions { BannerText = "SECRET\n", BannerColour = "#c8102e\n", IdleTimeout = TimeSpan.FromDays(1) }.Validate();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.Contains("Console:BannerText", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Console:BannerColour", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("Console:IdleTimeout", StringComparison.Ordinal));
        Assert.Empty(new ConsoleOptions { BannerText = "SECRET//NOFORN", BannerColour = "#C8102E" }.Validate());
    }
}
