using System.Globalization;
using System.Text;

namespace Enclave.Intel.Stix.Patterns;

/// <summary>An observation expression (STIX 2.1 section 9.5): one <c>[ ... ]</c>, a combination, or a qualified expression.</summary>
public abstract record ObservationExpression;

/// <summary><c>[ comparison-expression ]</c>: true for an observation whose objects satisfy the comparisons.</summary>
public sealed record ObservationComparison(ComparisonExpression Comparison) : ObservationExpression;

/// <summary><c>left AND|OR|FOLLOWEDBY right</c> between observations.</summary>
public sealed record ObservationBinary(ObservationOperator Operator, ObservationExpression Left, ObservationExpression Right) : ObservationExpression;

/// <summary>An observation expression with a <c>WITHIN</c>, <c>REPEATS</c> or <c>START/STOP</c> qualifier.</summary>
public sealed record ObservationQualified(ObservationExpression Inner, PatternQualifier Qualifier) : ObservationExpression;

public enum ObservationOperator
{
    And,
    Or,
    FollowedBy,
}

/// <summary>A qualifier (STIX 2.1 section 9.6).</summary>
public abstract record PatternQualifier;

/// <summary><c>WITHIN n SECONDS</c>.</summary>
public sealed record WithinQualifier(decimal Seconds) : PatternQualifier;

/// <summary><c>REPEATS n TIMES</c>.</summary>
public sealed record RepeatsQualifier(int Times) : PatternQualifier;

/// <summary><c>START t'..' STOP t'..'</c>: observations with start &lt;= time &lt; stop.</summary>
public sealed record StartStopQualifier(DateTimeOffset Start, DateTimeOffset Stop) : PatternQualifier;

/// <summary>A comparison expression inside one observation (section 9.4).</summary>
public abstract record ComparisonExpression;

/// <summary><c>left AND|OR right</c> inside one observation.</summary>
public sealed record ComparisonBinary(bool IsAnd, ComparisonExpression Left, ComparisonExpression Right) : ComparisonExpression;

/// <summary><c>path [NOT] op constant</c> or <c>EXISTS path</c>.</summary>
public sealed record PropertyComparison(ObjectPath Path, ComparisonOperator Operator, bool Negated, PatternConstant? Constant) : ComparisonExpression
{
    public override string ToString() => Operator == ComparisonOperator.Exists
        ? $"EXISTS {Path}"
        : $"{Path} {(Negated ? "NOT " : string.Empty)}{OperatorText(Operator)} {Constant}";

    public static string OperatorText(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=",
        ComparisonOperator.In => "IN",
        ComparisonOperator.Like => "LIKE",
        ComparisonOperator.Matches => "MATCHES",
        ComparisonOperator.IsSubset => "ISSUBSET",
        ComparisonOperator.IsSuperset => "ISSUPERSET",
        _ => "EXISTS",
    };
}

public enum ComparisonOperator
{
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    In,
    Like,
    Matches,
    IsSubset,
    IsSuperset,
    Exists,
}

/// <summary>An object path: <c>type:property(.key|[n]|[*])*</c> (section 9.3).</summary>
public sealed record ObjectPath(string ObjectType, IReadOnlyList<PathStep> Steps)
{
    /// <summary>Canonical text: <c>file:hashes.'SHA-256'</c>, <c>domain-name:resolves_to_refs[*].value</c>.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(ObjectType).Append(':');
        for (var i = 0; i < Steps.Count; i++)
        {
            var step = Steps[i];
            if (step.Key is { } key)
            {
                if (i > 0)
                {
                    text.Append('.');
                }

                var plain = key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_') && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
                text.Append(plain ? key : PatternConstant.Quote(key));
            }
            else
            {
                text.Append('[').Append(step.Index is { } n ? n.ToString(CultureInfo.InvariantCulture) : "*").Append(']');
            }
        }

        return text.ToString();
    }
}

/// <summary>One step of an object path: a key, or a list index (<c>null</c> = <c>[*]</c>).</summary>
public readonly record struct PathStep(string? Key, int? Index, bool IsIndex)
{
    public static PathStep Property(string key) => new(key, null, false);
    public static PathStep Item(int? index) => new(null, index, true);
}

public enum ConstantKind
{
    String,
    Integer,
    Float,
    Boolean,
    Hex,
    Binary,
    Timestamp,
    Set,
}

/// <summary>A constant of a comparison: its kind and value (string, long, double, bool, byte[], DateTimeOffset, or a list of constants).</summary>
public sealed record PatternConstant(ConstantKind Kind, object Value)
{
    public string AsString => (string)Value;

    public override string ToString() => Kind switch
    {
        ConstantKind.String => Quote((string)Value),
        ConstantKind.Integer => ((long)Value).ToString(CultureInfo.InvariantCulture),
        ConstantKind.Float => ((double)Value).ToString("R", CultureInfo.InvariantCulture),
        ConstantKind.Boolean => (bool)Value ? "true" : "false",
        ConstantKind.Hex => $"h'{Convert.ToHexStringLower((byte[])Value)}'",
        ConstantKind.Binary => $"b'{Convert.ToBase64String((byte[])Value)}'",
        ConstantKind.Timestamp => $"t'{StixTimestamp.Format((DateTimeOffset)Value)}'",
        _ => "(" + string.Join(", ", ((IReadOnlyList<PatternConstant>)Value).Select(c => c.ToString())) + ")",
    };

    public static string Quote(string value) => "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
