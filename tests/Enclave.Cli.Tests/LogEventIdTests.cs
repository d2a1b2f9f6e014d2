using System.Text.RegularExpressions;

namespace Enclave.Cli.Tests;

/// <summary>
/// Every <c>[LoggerMessage]</c> in <c>src/</c> names its event ID, and no two share one: an operator filtering logs by
/// event ID must find one message, not two. The ranges per assembly are in docs/architecture.md ("Logging").
/// </summary>
public sealed partial class LogEventIdTests
{
    [Fact]
    public void Every_logger_message_in_the_sources_has_an_event_id_no_other_message_uses()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var messages = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => LoggerMessage().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetRelativePath(src, f), Attribute: m.Value)))
            .ToList();
        Assert.NotEmpty(messages);

        var withoutId = messages.Where(m => !EventId().IsMatch(m.Attribute)).Select(m => m.File).ToList();
        Assert.True(withoutId.Count == 0, "[LoggerMessage] without EventId in: " + string.Join(", ", withoutId));

        var duplicates = messages
            .GroupBy(m => int.Parse(EventId().Match(m.Attribute).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Where(g => g.Count() > 1)
            .Select(g => $"EventId {g.Key} in {string.Join(" and ", g.Select(m => m.File))}")
            .ToList();
        Assert.True(duplicates.Count == 0, "duplicate log event IDs: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void The_scan_finds_a_duplicate_when_two_messages_share_an_id()
    {
        const string Source = """
            [LoggerMessage(EventId = 4101, Level = LogLevel.Error, Message = "a")]
            [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "b")]
            [LoggerMessage(Level = LogLevel.Warning, Message = "c")]
            """;
        var matches = LoggerMessage().Matches(Source).Select(m => m.Value).ToList();
        Assert.Equal(3, matches.Count);
        Assert.Equal(["4101", "4101"], matches.Where(m => EventId().IsMatch(m)).Select(m => EventId().Match(m).Groups[1].Value));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"Enclave.slnx not found above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\[LoggerMessage\((?:[^()""]|""(?:[^""\\]|\\.)*"")*\)\]")]
    private static partial Regex LoggerMessage();

    [GeneratedRegex(@"EventId\s*=\s*(\d+)")]
    private static partial Regex EventId();
}
