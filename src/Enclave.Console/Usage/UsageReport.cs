using System.Globalization;
using System.Text;
using Enclave.OperatorConsole.Backend;
using Enclave.State.Usage;

namespace Enclave.OperatorConsole.Usage;

/// <summary>The time a usage report covers, with the width of its buckets.</summary>
public enum UsageRange
{
    /// <summary>The last 60 minutes, by minute.</summary>
    Hour,

    /// <summary>The last 24 hours, by hour.</summary>
    Day,

    /// <summary>The last 30 days, by day.</summary>
    Month,
}

/// <summary>What a usage report's series are.</summary>
public enum UsageDimension
{
    Principal,

    /// <summary>By the principals' current roles: a principal with several roles counts under each; one with none under <c>(no role)</c>.</summary>
    Role,

    Model,

    /// <summary>By backend; refusals reached none and count under <c>(none)</c>.</summary>
    Backend,
}

/// <summary>The sums of one bucket for one group (a principal, role, model or backend).</summary>
public sealed record UsageCell
{
    internal static readonly UsageCell Zero = new(new UsageBucket { Span = UsageSpan.Minute, Start = default, Principal = "", Model = "", Backend = "" });

    internal UsageCell(UsageBucket sums) => Sums = sums;

    private UsageBucket Sums { get; }

    public long Requests => Sums.Requests;

    public long Denials => Sums.Denials;

    public long Errors => Sums.Errors;

    public long PromptTokens => Sums.PromptTokens;

    public long CompletionTokens => Sums.CompletionTokens;

    public long Tokens => PromptTokens + CompletionTokens;

    public double LatencyMsMax => Sums.LatencyMsMax;

    /// <summary>The completed requests' mean latency in milliseconds; null without requests.</summary>
    public double? LatencyMsAverage => Requests == 0 ? null : Sums.LatencyMsSum / Requests;

    /// <summary>The completed requests' median latency in milliseconds, from the latency histogram (<see cref="LatencyHistogram.Percentile"/>); null without requests.</summary>
    public double? LatencyMsP50 => LatencyHistogram.Percentile(Sums.LatencyCounts, 0.50, Sums.LatencyMsMax);

    /// <summary>The 95th percentile latency in milliseconds, from the latency histogram; null without requests.</summary>
    public double? LatencyMsP95 => LatencyHistogram.Percentile(Sums.LatencyCounts, 0.95, Sums.LatencyMsMax);

    /// <summary>The 99th percentile latency in milliseconds, from the latency histogram; null without requests.</summary>
    public double? LatencyMsP99 => LatencyHistogram.Percentile(Sums.LatencyCounts, 0.99, Sums.LatencyMsMax);

    public UsageCell Add(UsageCell cell) => new(Sums.Plus(cell.Sums));
}

/// <summary>
/// Usage over a <see cref="UsageRange"/> by a <see cref="UsageDimension"/>, from the rollup (<see cref="IUsageStore"/>):
/// one read of at most 60 buckets' rows, never the ledger. Groups are ordered by requests and denials, most first.
/// </summary>
public sealed class UsageReport
{
    private readonly Dictionary<(DateTimeOffset, string), UsageCell> _cells;

    private UsageReport(UsageRange range, UsageDimension by, IReadOnlyList<DateTimeOffset> buckets, IReadOnlyList<string> groups, Dictionary<(DateTimeOffset, string), UsageCell> cells)
    {
        Range = range;
        By = by;
        Buckets = buckets;
        Groups = groups;
        _cells = cells;
    }

    public UsageRange Range { get; }

    public UsageDimension By { get; }

    /// <summary>Every bucket's start (UTC), oldest first, including those without usage.</summary>
    public IReadOnlyList<DateTimeOffset> Buckets { get; }

    /// <summary>The groups with usage in the range, most used first.</summary>
    public IReadOnlyList<string> Groups { get; }

    /// <summary>The sums of <paramref name="group"/> in the bucket starting at <paramref name="bucket"/> (zero when none).</summary>
    public UsageCell Cell(DateTimeOffset bucket, string group) => _cells.GetValueOrDefault((bucket, group)) ?? UsageCell.Zero;

    /// <summary>The sums of <paramref name="group"/> over the whole range.</summary>
    public UsageCell Total(string group) => Buckets.Aggregate(UsageCell.Zero, (sum, b) => _cells.TryGetValue((b, group), out var c) ? sum.Add(c) : sum);

    /// <summary>The sums of every group over the whole range (by role, a principal with several roles counts once).</summary>
    public UsageCell GrandTotal { get; private init; } = UsageCell.Zero;

    /// <summary>The bucket width of <paramref name="range"/>, and how many buckets it has.</summary>
    public static (UsageSpan Span, int Count) Shape(UsageRange range) => range switch
    {
        UsageRange.Hour => (UsageSpan.Minute, 60),
        UsageRange.Day => (UsageSpan.Hour, 24),
        _ => (UsageSpan.Day, 30),
    };

    /// <summary>
    /// Reads the report for the range ending now; <paramref name="rolesOf"/> gives a principal's current roles. With
    /// <paramref name="model"/>, only that model's usage counts (the Models page links the Usage page filtered to it).
    /// </summary>
    public static UsageReport Build(IUsageStore store, UsageRange range, UsageDimension by, DateTimeOffset now, Func<string, IReadOnlyList<string>> rolesOf, string? model = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(rolesOf);
        var (span, count) = Shape(range);
        var last = UsageBucket.StartOf(span, now);
        var buckets = Enumerable.Range(0, count).Select(i => Step(span, last, i - count + 1)).ToList();
        // Summed in place (a month by principal is thousands of rows, each with its latency histogram): one
        // accumulator per cell, made into a cell once at the end.
        var sums = new Dictionary<(DateTimeOffset, string), Accumulator>();
        var grand = new Accumulator();
        foreach (var row in store.Read(span, buckets[0]))
        {
            if (model is not null && !string.Equals(row.Model, model, StringComparison.Ordinal))
            {
                continue;
            }

            grand.Add(row);
            IEnumerable<string> groups = by switch
            {
                UsageDimension.Principal => [row.Principal],
                UsageDimension.Model => [row.Model],
                UsageDimension.Backend => [row.Backend.Length == 0 ? "(none)" : row.Backend],
                _ => rolesOf(row.Principal) is { Count: > 0 } roles ? roles : ["(no role)"],
            };
            foreach (var group in groups)
            {
                if (!sums.TryGetValue((row.Start, group), out var sum))
                {
                    sums[(row.Start, group)] = sum = new Accumulator();
                }

                sum.Add(row);
            }
        }

        var cells = sums.ToDictionary(s => s.Key, s => s.Value.ToCell());

        var order = cells
            .GroupBy(c => c.Key.Item2, StringComparer.Ordinal)
            .Select(g => (Group: g.Key, Weight: g.Sum(c => c.Value.Requests + c.Value.Denials)))
            .OrderByDescending(g => g.Weight)
            .ThenBy(g => g.Group, StringComparer.Ordinal)
            .Select(g => g.Group)
            .ToList();
        return new UsageReport(range, by, buckets, order, cells) { GrandTotal = grand.ToCell() };
    }

    /// <summary>
    /// The report as CSV (RFC 4180, CRLF): one row per bucket and group with usage, with the latency's mean, maximum and
    /// 50th, 95th and 99th percentiles (from the histogram; empty without completed requests). A text field that a spreadsheet
    /// would run as a formula (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or CR) is prefixed with <c>'</c>.
    /// </summary>
    public string ToCsv()
    {
        var csv = new StringBuilder();
        csv.Append("start,").Append(DimensionName(By)).Append(",requests,denials,errors,prompt_tokens,completion_tokens,latency_avg_ms,latency_max_ms,latency_p50_ms,latency_p95_ms,latency_p99_ms\r\n");
        foreach (var bucket in Buckets)
        {
            foreach (var group in Groups)
            {
                if (!_cells.TryGetValue((bucket, group), out var c))
                {
                    continue;
                }

                csv.Append(bucket.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append(',')
                    .Append(CsvField(group)).Append(',')
                    .Append(c.Requests.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(c.Denials.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(c.Errors.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(c.PromptTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(c.CompletionTokens.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(c.LatencyMsAverage is { } avg ? avg.ToString("0.###", CultureInfo.InvariantCulture) : "").Append(',')
                    .Append(c.Requests == 0 ? "" : c.LatencyMsMax.ToString("0.###", CultureInfo.InvariantCulture)).Append(',')
                    .Append(Ms(c.LatencyMsP50)).Append(',')
                    .Append(Ms(c.LatencyMsP95)).Append(',')
                    .Append(Ms(c.LatencyMsP99)).Append("\r\n");
            }
        }

        return csv.ToString();
    }

    /// <summary>Each principal's current roles from the directory, read only when the report is by role.</summary>
    public static Func<string, IReadOnlyList<string>> RolesOf(IConsoleBackend backend, UsageDimension by)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (by != UsageDimension.Role)
        {
            return _ => [];
        }

        var roles = backend.ListPrincipals().ToDictionary(p => p.Id, p => p.Roles, StringComparer.Ordinal);
        return id => roles.GetValueOrDefault(id) ?? [];
    }

    /// <summary>The query value of a range (<c>hour</c>, <c>day</c>, <c>month</c>).</summary>
    public static string RangeName(UsageRange range) => range.ToString().ToLowerInvariant();

    /// <summary>The query value of a dimension (<c>principal</c>, <c>role</c>, <c>model</c>, <c>backend</c>).</summary>
    public static string DimensionName(UsageDimension by) => by.ToString().ToLowerInvariant();

    /// <summary>Reads <c>range</c> and <c>by</c> as the page and the export take them (absent: day, by model); false with the problem when one is not a choice.</summary>
    public static bool TryParse(string? range, string? by, out UsageRange parsedRange, out UsageDimension parsedBy, out string? problem)
    {
        var problems = new List<string>();
        parsedRange = UsageRange.Day;
        parsedBy = UsageDimension.Model;
        if (!string.IsNullOrEmpty(range) && !TryName(range, out parsedRange))
        {
            problems.Add($"range '{Shorten(range)}' is not one of hour, day, month");
        }

        if (!string.IsNullOrEmpty(by) && !TryName(by, out parsedBy))
        {
            problems.Add($"by '{Shorten(by)}' is not one of principal, role, model, backend");
        }

        problem = problems.Count == 0 ? null : string.Join("; ", problems);
        return problem is null;
    }

    private static bool TryName<T>(string text, out T value)
        where T : struct, Enum
    {
        value = default;
        return text.All(char.IsAsciiLetterLower) && Enum.TryParse(text, ignoreCase: true, out value);
    }

    private static string Ms(double? value) => value is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) : "";

    private static string Shorten(string s) => s.Length <= 32 ? s : s[..32] + "…";

    private static string CsvField(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    // The sums of one cell while rows are added (no copy per row).
    private sealed class Accumulator
    {
        private long _requests;
        private long _denials;
        private long _errors;
        private long _promptTokens;
        private long _completionTokens;
        private double _latencySum;
        private double _latencyMax;
        private long[]? _latency;

        public void Add(UsageBucket row)
        {
            _requests += row.Requests;
            _denials += row.Denials;
            _errors += row.Errors;
            _promptTokens += row.PromptTokens;
            _completionTokens += row.CompletionTokens;
            _latencySum += row.LatencyMsSum;
            _latencyMax = Math.Max(_latencyMax, row.LatencyMsMax);
            if (row.LatencyCounts.Count == LatencyHistogram.Count)
            {
                _latency ??= new long[LatencyHistogram.Count];
                for (var i = 0; i < LatencyHistogram.Count; i++)
                {
                    _latency[i] += row.LatencyCounts[i];
                }
            }
        }

        public UsageCell ToCell() => new(new UsageBucket
        {
            Span = UsageSpan.Minute,
            Start = default,
            Principal = "",
            Model = "",
            Backend = "",
            Requests = _requests,
            Denials = _denials,
            Errors = _errors,
            PromptTokens = _promptTokens,
            CompletionTokens = _completionTokens,
            LatencyMsSum = _latencySum,
            LatencyMsMax = _latencyMax,
            LatencyCounts = _latency ?? [],
        });
    }

    private static DateTimeOffset Step(UsageSpan span, DateTimeOffset from, int steps) => span switch
    {
        UsageSpan.Minute => from.AddMinutes(steps),
        UsageSpan.Hour => from.AddHours(steps),
        _ => from.AddDays(steps),
    };
}
