using System.Globalization;
using System.Net.Http.Headers;

namespace Enclave.Inference.Upstream;

/// <summary>Reads how long a backend asks to be left alone: <c>Retry-After</c> (RFC 9110) or OpenAI's <c>retry-after-ms</c>.</summary>
internal static class RetryAfter
{
    /// <summary>Beyond this a hint is treated as "a long time" (and clamped), so arithmetic on it cannot overflow.</summary>
    internal static readonly TimeSpan Ceiling = TimeSpan.FromDays(1);

    /// <summary>
    /// The wait a response asks for: <c>retry-after-ms</c> when present and valid, else <c>Retry-After</c> as
    /// delta-seconds or an HTTP date (relative to <paramref name="now"/>, never negative); null when absent or unreadable.
    /// </summary>
    public static TimeSpan? Parse(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (headers.TryGetValues("retry-after-ms", out var msValues)
            && msValues.FirstOrDefault() is { } msText
            && double.TryParse(msText, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)
            && double.IsFinite(ms) && ms >= 0)
        {
            return Clamp(TimeSpan.FromMilliseconds(Math.Min(ms, Ceiling.TotalMilliseconds)));
        }

        if (!headers.TryGetValues("Retry-After", out var values) || values.FirstOrDefault() is not { } text)
        {
            return null;
        }

        return Parse(text, now);
    }

    /// <summary>A <c>Retry-After</c> value: delta-seconds or an HTTP date.</summary>
    public static TimeSpan? Parse(string text, DateTimeOffset now)
    {
        text = text.Trim();
        if (text.Length == 0 || text.Length > 64)
        {
            return null;
        }

        if (char.IsAsciiDigit(text[0]))
        {
            // delta-seconds = 1*DIGIT; an overlong number is "a long time".
            if (!text.All(char.IsAsciiDigit))
            {
                return null;
            }

            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds < Ceiling.TotalSeconds
                ? TimeSpan.FromSeconds(seconds)
                : Ceiling;
        }

        if (RetryConditionHeaderValue.TryParse(text, out var condition) && condition.Date is { } date)
        {
            return Clamp(date - now);
        }

        return null;
    }

    private static TimeSpan Clamp(TimeSpan value) =>
        value < TimeSpan.Zero ? TimeSpan.Zero : value > Ceiling ? Ceiling : value;
}
