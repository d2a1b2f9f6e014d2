using System.Globalization;
using System.Text;

namespace Enclave.Inference.Text.Jinja;

/// <summary>A runtime value of the template language, with JavaScript's (the reference's) truthiness and string forms.</summary>
internal abstract class JinjaValue
{
    public abstract string TypeName { get; }

    public virtual bool Truthy => true;

    /// <summary>The text <c>{{ value }}</c> writes.</summary>
    public abstract string Render();

    /// <summary>What JavaScript's <c>String(value.value)</c> gives (used by <c>~</c> and string <c>+</c>).</summary>
    public virtual string RawString() => Render();
}

internal sealed class JinjaUndefined : JinjaValue
{
    public static readonly JinjaUndefined Instance = new();

    public override string TypeName => "UndefinedValue";

    public override bool Truthy => false;

    public override string Render() => "undefined";
}

internal sealed class JinjaNull : JinjaValue
{
    public static readonly JinjaNull Instance = new();

    public override string TypeName => "NullValue";

    public override bool Truthy => false;

    public override string Render() => "null";
}

internal sealed class JinjaBool(bool value) : JinjaValue
{
    public static readonly JinjaBool True = new(true);
    public static readonly JinjaBool False = new(false);

    public bool Value { get; } = value;

    public override string TypeName => "BooleanValue";

    public override bool Truthy => Value;

    public static JinjaBool Of(bool value) => value ? True : False;

    public override string Render() => Value ? "true" : "false";
}

/// <summary>A number: JavaScript doubles, flagged integer or float as the reference's IntegerValue/FloatValue are.</summary>
internal sealed class JinjaNumber(double value, bool isInteger) : JinjaValue
{
    public double Value { get; } = value;

    public bool IsInteger { get; } = isInteger;

    public override string TypeName => IsInteger ? "IntegerValue" : "FloatValue";

    public override bool Truthy => Value != 0 && !double.IsNaN(Value);

    public override string Render()
    {
        if (IsInteger)
        {
            return JsNumber(Value);
        }

        if (Value == 0 && double.IsNegative(Value))
        {
            return "-0.0";
        }

        return Value % 1 == 0 && Math.Abs(Value) < 1e21 ? JsNumber(Value) + ".0" : JsNumber(Value);
    }

    public override string RawString() => JsNumber(Value);

    /// <summary>JavaScript's Number::toString.</summary>
    public static string JsNumber(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return "0";
        }

        // Shortest round-trip digits, then JavaScript's layout rules.
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        int ePos = shortest.IndexOfAny(['E', 'e']);
        string mantissa = ePos >= 0 ? shortest[..ePos] : shortest;
        int exponent = ePos >= 0 ? int.Parse(shortest[(ePos + 1)..], CultureInfo.InvariantCulture) : 0;
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot >= 0 ? mantissa.Remove(dot, 1) : mantissa;
        int pointPos = (dot >= 0 ? dot : mantissa.Length) + exponent;
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
        {
            lead++;
            pointPos--;
        }

        digits = digits[lead..].TrimEnd('0');
        if (digits.Length == 0)
        {
            digits = "0";
        }

        int k = digits.Length;
        int n = pointPos;
        string body;
        if (k <= n && n <= 21)
        {
            body = digits + new string('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            body = digits[..n] + "." + digits[n..];
        }
        else if (-6 < n && n <= 0)
        {
            body = "0." + new string('0', -n) + digits;
        }
        else
        {
            int e = n - 1;
            body = (k == 1 ? digits : digits[0] + "." + digits[1..]) + "e" + (e >= 0 ? "+" : "-") + Math.Abs(e).ToString(CultureInfo.InvariantCulture);
        }

        return value < 0 ? "-" + body : body;
    }
}

internal sealed class JinjaString(string value) : JinjaValue
{
    public static readonly JinjaString Empty = new(string.Empty);

    public string Value { get; } = value;

    public override string TypeName => "StringValue";

    public override bool Truthy => Value.Length > 0;

    public override string Render() => Value;
}

internal class JinjaArray(List<JinjaValue> items) : JinjaValue
{
    public List<JinjaValue> Items { get; } = items;

    public override string TypeName => "ArrayValue";

    public override bool Truthy => Items.Count > 0;

    public override string Render() => JinjaJson.Serialize(this, new JinjaJson.Options(), 0, convertUndefinedToNull: false);

    public override string RawString() => string.Join(",", Items.Select(i => i.Render()));
}

internal sealed class JinjaTuple(List<JinjaValue> items) : JinjaArray(items)
{
    public override string TypeName => "TupleValue";
}

internal class JinjaObject(OrderedDictionary<string, JinjaValue> entries) : JinjaValue
{
    public OrderedDictionary<string, JinjaValue> Entries { get; } = entries;

    public override string TypeName => "ObjectValue";

    public override bool Truthy => Entries.Count > 0;

    public override string Render() => JinjaJson.Serialize(this, new JinjaJson.Options(), 0, convertUndefinedToNull: false);

    public override string RawString() => "[object Map]";
}

/// <summary>Keyword arguments handed to a builtin as its last argument.</summary>
internal sealed class JinjaKeywordArguments(OrderedDictionary<string, JinjaValue> entries) : JinjaObject(entries)
{
    public override string TypeName => "KeywordArgumentsValue";
}

/// <summary>What <c>namespace()</c> makes: attributes that <c>set ns.x = ...</c> may assign across scopes.</summary>
internal sealed class JinjaNamespace(OrderedDictionary<string, JinjaValue> entries) : JinjaValue
{
    public OrderedDictionary<string, JinjaValue> Entries { get; } = entries;

    public override string TypeName => "NamespaceValue";

    public override string Render() => JinjaJson.Serialize(this, new JinjaJson.Options(), 0, convertUndefinedToNull: false);

    public override string RawString() => "[object Map]";
}

internal sealed class JinjaFunction(Func<List<JinjaValue>, JinjaEnvironment, JinjaValue> function) : JinjaValue
{
    public Func<List<JinjaValue>, JinjaEnvironment, JinjaValue> Function { get; } = function;

    public override string TypeName => "FunctionValue";

    public override string Render() => "[function]";
}

/// <summary>The reference's <c>toJSON</c>: Python <c>json.dumps</c> separators, JavaScript number and string escaping.</summary>
internal static class JinjaJson
{
    public sealed record Options(int? Indent = null, bool EnsureAscii = false, (string Item, string Key)? Separators = null, bool SortKeys = false);

    public static string Serialize(JinjaValue value, Options options, int depth, bool convertUndefinedToNull = true)
    {
        (string itemSeparator, string keySeparator) = options.Separators ?? (options.Indent is > 0 ? (",", ": ") : (", ", ": "));
        switch (value)
        {
            case JinjaNull:
                return "null";
            case JinjaUndefined:
                return convertUndefinedToNull ? "null" : "undefined";
            case JinjaNumber n:
                return double.IsFinite(n.Value) ? JinjaNumber.JsNumber(n.Value) : "null";
            case JinjaBool b:
                return b.Value ? "true" : "false";
            case JinjaString s:
                return Quote(s.Value, options.EnsureAscii);
            case JinjaArray a:
            {
                string indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : string.Empty;
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                string childPadding = basePadding + indent;
                var core = a.Items.Select(x => Serialize(x, options, depth + 1, convertUndefinedToNull)).ToList();
                return options.Indent is > 0 && core.Count > 0
                    ? "[" + childPadding + string.Join(itemSeparator + childPadding, core) + basePadding + "]"
                    : "[" + string.Join(itemSeparator, core) + "]";
            }

            case JinjaObject or JinjaNamespace:
            {
                OrderedDictionary<string, JinjaValue> entries = value is JinjaObject o ? o.Entries : ((JinjaNamespace)value).Entries;
                string indent = options.Indent is > 0 ? new string(' ', options.Indent.Value) : string.Empty;
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                string childPadding = basePadding + indent;
                IEnumerable<KeyValuePair<string, JinjaValue>> pairs = options.SortKeys ? entries.OrderBy(p => p.Key, StringComparer.Ordinal) : entries;
                var core = pairs.Select(p =>
                {
                    string v = Quote(p.Key, options.EnsureAscii) + keySeparator + Serialize(p.Value, options, depth + 1, convertUndefinedToNull);
                    return options.Indent is > 0 ? childPadding + v : v;
                }).ToList();
                return options.Indent is > 0 && core.Count > 0
                    ? "{" + string.Join(itemSeparator, core) + basePadding + "}"
                    : "{" + string.Join(itemSeparator, core) + "}";
            }

            default:
                throw new JinjaRuntimeException($"Cannot convert to JSON: {value.TypeName}");
        }
    }

    /// <summary>JSON.stringify of a string (well-formed: lone surrogates escaped), optionally escaping all non-ASCII.</summary>
    public static string Quote(string s, bool ensureAscii)
    {
        var sb = new StringBuilder(s.Length + 2);
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    bool loneSurrogate = (char.IsHighSurrogate(c) && !(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))) ||
                                         (char.IsLowSurrogate(c) && !(i > 0 && char.IsHighSurrogate(s[i - 1])));
                    if (c < 0x20 || loneSurrogate || (ensureAscii && c >= 0x7f))
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}
