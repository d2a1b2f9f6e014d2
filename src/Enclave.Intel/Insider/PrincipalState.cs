namespace Enclave.Intel.Insider;

/// <summary>What the engine keeps per principal: a fixed-size ring of daily feature counts over the window, today's
/// evidence, the hour-of-day and day-of-week profile. Its size does not grow with the number of events.</summary>
internal sealed class PrincipalState
{
    public PrincipalState(string name, int window)
    {
        Name = name;
        Ring = new int[window * InsiderEngine.CountedFeatures];
        LabelRing = new sbyte[window];
        Array.Fill(LabelRing, (sbyte)-1);
    }

    public string Name { get; }

    public string? Role { get; set; }

    public string? Clearance { get; set; }

    public int ClearanceRank { get; set; } = -1;

    public PeerGroup? RoleGroup { get; set; }

    public PeerGroup? ClearanceGroup { get; set; }

    public long Day { get; set; } = long.MinValue;

    public long Hour { get; set; } = long.MinValue;

    public int HourRequests { get; set; }

    public long HourTokens { get; set; }

    public int[] Ring { get; }

    public sbyte[] LabelRing { get; }

    public int HistoryDays { get; set; }

    public float[] Median { get; } = new float[InsiderEngine.CountedFeatures];

    public float[] Scale { get; } = new float[InsiderEngine.CountedFeatures];

    public float[] Max { get; } = new float[InsiderEngine.CountedFeatures];

    public int WindowMaxLabel { get; set; } = -1;

    public int WindowSensitive { get; set; }

    public int LabelAboveToday { get; set; }

    public float[] Emitted { get; } = new float[InsiderEngine.AllFeatures];

    public float[] TodayScore { get; } = new float[InsiderEngine.AllFeatures];

    public EvidenceRing?[] Evidence { get; } = new EvidenceRing?[InsiderEngine.AllFeatures];

    public int[] Hours { get; } = new int[24];

    public int[] Weekdays { get; } = new int[7];

    public int[] TodayHours { get; } = new int[24];

    public int[] TodayWeekdays { get; } = new int[7];

    public int HourTotal { get; set; }

    public double Approvals { get; set; }

    public long ApprovalDay { get; set; }

    public long LastSeen { get; set; }
}

/// <summary>The latest ledger indices of one feature today.</summary>
internal sealed class EvidenceRing(int capacity)
{
    private readonly long[] _items = new long[capacity];
    private int _next;

    public int Count { get; private set; }

    public void Add(long index)
    {
        _items[_next] = index;
        _next = (_next + 1) % _items.Length;
        Count = Math.Min(Count + 1, _items.Length);
    }

    public void Clear() => _next = Count = 0;

    public long[] ToArray()
    {
        var result = new long[Count];
        var start = (_next - Count + _items.Length) % _items.Length;
        for (var i = 0; i < Count; i++)
        {
            result[i] = _items[(start + i) % _items.Length];
        }

        return result;
    }
}
