namespace Enclave.Intel.Insider;

/// <summary>
/// A peer group's distribution of principal-day values per feature over the rolling window: one log-bucketed
/// histogram per day (exact up to 31, then eight buckets per power of two), so memory is fixed per group and a
/// quantile is one walk over 256 buckets, done at most once per feature and day.
/// </summary>
internal sealed class PeerGroup
{
    internal const int Buckets = 256;
    private readonly int _window;
    private readonly int _features;
    private readonly int[][] _days;
    private readonly int[][] _totals;
    private readonly int[] _samples;
    private readonly long[] _slotDay;
    private readonly long[] _cacheDay;
    private readonly double[] _median;
    private readonly double[] _scale;
    private readonly double[] _tail;

    public PeerGroup(string key, int window, int features)
    {
        Key = key;
        _window = window;
        _features = features;
        _days = new int[features][];
        _totals = new int[features][];
        for (var f = 0; f < features; f++)
        {
            _days[f] = new int[window * Buckets];
            _totals[f] = new int[Buckets];
        }

        _samples = new int[features];
        _slotDay = new long[window];
        Array.Fill(_slotDay, long.MinValue);
        _cacheDay = new long[features];
        Array.Fill(_cacheDay, long.MinValue);
        _median = new double[features];
        _scale = new double[features];
        _tail = new double[features];
    }

    public string Key { get; }

    /// <summary>Hour-of-day and day-of-week request counts of the whole group (halved when large).</summary>
    public int[] Hours { get; } = new int[24];

    public int[] Weekdays { get; } = new int[7];

    public int HourTotal { get; set; }

    public int Samples(int feature) => _samples[feature];

    /// <summary>Adds one closed principal-day value of a feature.</summary>
    public void Add(int feature, long day, long value)
    {
        var slot = (int)(day % _window);
        if (_slotDay[slot] != day)
        {
            if (_slotDay[slot] > day)
            {
                return; // older than the window
            }

            for (var f = 0; f < _features; f++)
            {
                var hist = _days[f];
                var totals = _totals[f];
                for (var b = 0; b < Buckets; b++)
                {
                    var n = hist[(slot * Buckets) + b];
                    if (n != 0)
                    {
                        totals[b] -= n;
                        _samples[f] -= n;
                        hist[(slot * Buckets) + b] = 0;
                    }
                }

                _cacheDay[f] = long.MinValue;
            }

            _slotDay[slot] = day;
        }

        var bucket = Bucket(value);
        _days[feature][(slot * Buckets) + bucket]++;
        _totals[feature][bucket]++;
        _samples[feature]++;
    }

    /// <summary>The group's median, robust scale (interquartile range / 1.349) and 99th percentile of a feature, cached per day.</summary>
    public bool TryBaseline(int feature, long day, int minSamples, out double median, out double scale, out double tail)
    {
        if (_samples[feature] < minSamples)
        {
            median = scale = tail = 0;
            return false;
        }

        if (_cacheDay[feature] != day)
        {
            var totals = _totals[feature];
            var n = _samples[feature];
            long q1 = -1, q2 = -1, q3 = -1, q99 = -1;
            long seen = 0;
            for (var b = 0; b < Buckets && q99 < 0; b++)
            {
                seen += totals[b];
                if (q1 < 0 && seen * 4 >= n)
                {
                    q1 = Value(b);
                }

                if (q2 < 0 && seen * 2 >= n)
                {
                    q2 = Value(b);
                }

                if (q3 < 0 && seen * 4 >= 3L * n)
                {
                    q3 = Value(b);
                }

                if (seen * 100 >= 99L * n)
                {
                    q99 = Value(b);
                }
            }

            _median[feature] = q2;
            _scale[feature] = (q3 - q1) / 1.349;
            _tail[feature] = q99;
            _cacheDay[feature] = day;
        }

        median = _median[feature];
        scale = _scale[feature];
        tail = _tail[feature];
        return true;
    }

    internal static int Bucket(long value)
    {
        if (value < 32)
        {
            return value < 0 ? 0 : (int)value;
        }

        var clamped = Math.Min(value, int.MaxValue);
        var exponent = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)clamped);
        var sub = (int)((clamped >> (exponent - 3)) & 7);
        return 32 + ((exponent - 5) * 8) + sub;
    }

    internal static long Value(int bucket)
    {
        if (bucket < 32)
        {
            return bucket;
        }

        var exponent = ((bucket - 32) / 8) + 5;
        var sub = (bucket - 32) % 8;
        return (8L + sub) << (exponent - 3);
    }
}
