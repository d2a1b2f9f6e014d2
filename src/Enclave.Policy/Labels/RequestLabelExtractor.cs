using System.Text.RegularExpressions;

namespace Enclave.Policy.Labels;

/// <summary>
/// Determines a request's label: the <c>Enclave-Classification</c> header when present; otherwise the join of
/// every banner and portion marking in the messages; otherwise the configured default. It fails closed: a
/// malformed header is rejected, and a scan cut short by a bound or a timeout yields the top of the lattice
/// (<see cref="LabelScheme.Highest"/>), which nothing dominates, so the request is denied rather than under-labelled.
/// </summary>
public sealed class RequestLabelExtractor
{
    /// <summary>The header that carries a request's label.</summary>
    public const string HeaderName = "Enclave-Classification";

    private readonly LabelScheme _scheme;
    private readonly LabelExtractionOptions _options;
    private readonly MarkingScanner _scanner;

    public RequestLabelExtractor(LabelScheme scheme, LabelExtractionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        _scheme = scheme;
        _options = options ?? new LabelExtractionOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxMessages);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxTotalChars);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_options.MaxMarkings);
        if (_options.DefaultLabel is { } d && !scheme.Contains(d))
        {
            throw new ArgumentException("the default label is outside the scheme", nameof(options));
        }

        _scanner = new MarkingScanner(scheme, _options.MatchTimeout);
    }

    /// <summary>Extracts the label of a request.</summary>
    /// <param name="headerValue">The <c>Enclave-Classification</c> header value, or null when absent.</param>
    /// <param name="messages">The message texts, in order.</param>
    /// <exception cref="MarkingParseException">The header is present but not a valid marking.</exception>
    public RequestLabel Extract(string? headerValue, IReadOnlyList<string> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (headerValue is not null)
        {
            return new RequestLabel { Label = _scheme.ParseMarking(headerValue), Source = LabelSource.Header };
        }

        var found = new List<FoundMarking>();
        var problems = new List<string>();
        string? escalation = null;
        long total = 0;
        if (messages.Count > _options.MaxMessages)
        {
            escalation = $"request has {messages.Count} messages, over the scanning limit of {_options.MaxMessages}";
        }

        for (int i = 0; escalation is null && i < messages.Count; i++)
        {
            string text = messages[i] ?? string.Empty;
            total += text.Length;
            if (total > _options.MaxTotalChars)
            {
                escalation = $"messages total over {_options.MaxTotalChars} characters, the scanning limit";
                break;
            }

            try
            {
                if (!_scanner.Scan(text, i, found, _options.MaxMarkings))
                {
                    escalation = $"over {_options.MaxMarkings} markings found, the scanning limit";
                }
            }
            catch (RegexMatchTimeoutException)
            {
                escalation = $"scanning message {i} for markings timed out after {_options.MatchTimeout.TotalMilliseconds} ms";
            }
        }

        foreach (FoundMarking m in found)
        {
            if (m.Problem is not null)
            {
                problems.Add($"message {m.MessageIndex} at {m.Start}: {m.Problem}; counted at its level with every compartment and no releasability (fail closed); correct the marking");
            }
        }

        if (escalation is not null)
        {
            problems.Add(escalation + "; the request is labelled at the top of the lattice");
            return new RequestLabel { Label = _scheme.Highest, Source = LabelSource.Escalated, Markings = found, Problems = problems, Escalation = escalation };
        }

        if (found.Count == 0)
        {
            return new RequestLabel { Label = _options.DefaultLabel ?? _scheme.Lowest, Source = LabelSource.Default };
        }

        SecurityLabel label = found[0].Label;
        for (int i = 1; i < found.Count; i++)
        {
            label = label.Join(found[i].Label);
        }

        return new RequestLabel { Label = label, Source = LabelSource.Markings, Markings = found, Problems = problems };
    }
}
