using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Enclave.Intel.Indicators;

namespace Enclave.Intel.Sigma;

/// <summary>One compiled test of one field value (a string pattern, a number comparison, a CIDR, a regex...).</summary>
internal abstract class SigmaValueTest
{
    /// <summary>Whether a value of the field passes; <paramref name="value"/> is <see langword="null"/> for a JSON null.</summary>
    public abstract bool Test(string? value, SigmaEvent e);

    /// <summary>Adds the names of other fields of the event the test reads (<c>fieldref</c>) to <paramref name="fields"/>.</summary>
    public virtual void CollectFields(HashSet<string> fields)
    {
    }

    /// <summary>Builds a string pattern with Sigma wildcards (<c>*</c>, <c>?</c>, escaped with <c>\</c>).</summary>
    public static SigmaValueTest Pattern(string value, bool wildcards, bool leadingStar, bool trailingStar, bool cased, SigmaReaderOptions options)
    {
        var pieces = new List<(string? Literal, char Wild)>();
        if (leadingStar)
        {
            pieces.Add((null, '*'));
        }

        var literal = new StringBuilder();
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (wildcards && c == '\\' && i + 1 < value.Length && value[i + 1] is '*' or '?' or '\\')
            {
                literal.Append(value[++i]);
            }
            else if (wildcards && c is '*' or '?')
            {
                if (literal.Length > 0)
                {
                    pieces.Add((literal.ToString(), '\0'));
                    literal.Clear();
                }

                pieces.Add((null, c));
            }
            else
            {
                literal.Append(c);
            }
        }

        if (literal.Length > 0)
        {
            pieces.Add((literal.ToString(), '\0'));
        }

        if (trailingStar)
        {
            pieces.Add((null, '*'));
        }

        var comparison = cased ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var literals = pieces.Where(p => p.Literal is not null).ToList();
        if (pieces.All(p => p.Literal is not null || p.Wild == '*') && literals.Count <= 1)
        {
            var text = literals.Count == 0 ? string.Empty : literals[0].Literal!;
            var starFirst = pieces.Count > 0 && pieces[0].Literal is null;
            var starLast = pieces.Count > 0 && pieces[^1].Literal is null;
            if (literals.Count == 0 && pieces.Count > 0)
            {
                return new StringTest(string.Empty, StringTest.Kind.Any, comparison);
            }

            var kind = (starFirst, starLast) switch
            {
                (false, false) => StringTest.Kind.Equals,
                (true, false) => StringTest.Kind.EndsWith,
                (false, true) => StringTest.Kind.StartsWith,
                _ => StringTest.Kind.Contains,
            };
            return new StringTest(text, kind, comparison);
        }

        var regex = new StringBuilder(@"\A");
        foreach (var (lit, wild) in pieces)
        {
            regex.Append(lit is not null ? Regex.Escape(lit) : wild == '*' ? ".*" : ".");
        }

        regex.Append(@"\z");
        var regexOptions = RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant | (cased ? RegexOptions.None : RegexOptions.IgnoreCase);
        return new RegexTest(new Regex(regex.ToString(), regexOptions, options.RegexMatchTimeout));
    }

    public sealed class StringTest(string text, StringTest.Kind kind, StringComparison comparison) : SigmaValueTest
    {
        public enum Kind
        {
            Equals,
            StartsWith,
            EndsWith,
            Contains,
            Any,
        }

        public override bool Test(string? value, SigmaEvent e) => value is not null && kind switch
        {
            Kind.Equals => string.Equals(value, text, comparison),
            Kind.StartsWith => value.StartsWith(text, comparison),
            Kind.EndsWith => value.EndsWith(text, comparison),
            Kind.Contains => value.Contains(text, comparison),
            _ => true,
        };
    }

    public sealed class RegexTest(Regex regex) : SigmaValueTest
    {
        public override bool Test(string? value, SigmaEvent e)
        {
            if (value is null)
            {
                return false;
            }

            try
            {
                return regex.IsMatch(value);
            }
            catch (RegexMatchTimeoutException)
            {
                return false; // bounded: a match that runs out of time is no match
            }
        }
    }

    /// <summary>A plain YAML number: equal as a number when the value is numeric, else equal as text.</summary>
    public sealed class NumberEqualsTest(decimal number, string text) : SigmaValueTest
    {
        public override bool Test(string? value, SigmaEvent e) =>
            value is not null && (TryNumber(value, out var actual) ? actual == number : string.Equals(value, text, StringComparison.OrdinalIgnoreCase));
    }

    public sealed class CompareTest(decimal number, string op) : SigmaValueTest
    {
        public override bool Test(string? value, SigmaEvent e) => value is not null && TryNumber(value, out var actual) && op switch
        {
            "lt" => actual < number,
            "lte" => actual <= number,
            "gt" => actual > number,
            _ => actual >= number,
        };
    }

    public sealed class NullTest : SigmaValueTest
    {
        public override bool Test(string? value, SigmaEvent e) => value is null;
    }

    public sealed class CidrTest(IpPrefix prefix) : SigmaValueTest
    {
        public override bool Test(string? value, SigmaEvent e)
        {
            if (value is null || value.Length > 64 || !IPAddress.TryParse(value, out var address))
            {
                return false;
            }

            if (address.IsIPv4MappedToIPv6)
            {
                address = address.MapToIPv4();
            }

            return IpPrefix.TryParse(address.ToString(), out var actual) && prefix.Contains(actual);
        }
    }

    /// <summary><c>fieldref</c>: the value equals (starts, ends with, contains) another field's value in the same event.</summary>
    public sealed class FieldRefTest(string field, StringTest.Kind kind, StringComparison comparison) : SigmaValueTest
    {
        public override void CollectFields(HashSet<string> fields) => fields.Add(field);

        public override bool Test(string? value, SigmaEvent e)
        {
            if (value is null || !e.Fields.TryGetValue(field, out var others))
            {
                return false;
            }

            foreach (var other in others)
            {
                if (other is not null && new StringTest(other, kind, comparison).Test(value, e))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Time modifiers (<c>minute</c>, <c>hour</c>, <c>day</c>, <c>week</c>, <c>month</c>, <c>year</c>): a part of a date value, then a test on it.</summary>
    public sealed class TimePartTest(string part, SigmaValueTest inner) : SigmaValueTest
    {
        public override void CollectFields(HashSet<string> fields) => inner.CollectFields(fields);

        public override bool Test(string? value, SigmaEvent e)
        {
            if (value is null || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
            {
                return false;
            }

            var number = part switch
            {
                "minute" => time.Minute,
                "hour" => time.Hour,
                "day" => time.Day,
                "week" => ISOWeek.GetWeekOfYear(time.UtcDateTime),
                "month" => time.Month,
                _ => time.Year,
            };
            return inner.Test(number.ToString(CultureInfo.InvariantCulture), e);
        }
    }

    public static bool TryNumber(string text, out decimal number) =>
        decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number);
}
