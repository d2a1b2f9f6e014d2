namespace Enclave.Intel.Indicators;

/// <summary>
/// A binary trie of CIDR blocks (one per address family): a lookup walks at most 32 or 128 bits and reports every
/// block that contains the address. Nodes live in flat arrays; each node can carry a chain of indicator entries.
/// </summary>
internal sealed class CidrTrie
{
    private readonly List<int> _zero = [-1];
    private readonly List<int> _one = [-1];
    private readonly List<int> _entries = [-1];

    public int Nodes => _zero.Count;

    /// <summary>Attaches an entry at the block's node: <paramref name="link"/> gets the old chain head and returns the new one.</summary>
    public void Add(IpPrefix block, Func<int, int> link)
    {
        var node = 0;
        for (var bit = 0; bit < block.Length; bit++)
        {
            var children = block.Bit(bit) == 0 ? _zero : _one;
            if (children[node] < 0)
            {
                children[node] = _zero.Count;
                _zero.Add(-1);
                _one.Add(-1);
                _entries.Add(-1);
            }

            node = children[node];
        }

        _entries[node] = link(_entries[node]);
    }

    /// <summary>Calls <paramref name="visit"/> with the entry chain of every block containing <paramref name="value"/>.</summary>
    public void Visit<TState>(IpPrefix value, ref TState state, VisitChain<TState> visit)
    {
        var node = 0;
        for (var bit = 0; ; bit++)
        {
            if (_entries[node] >= 0)
            {
                visit(_entries[node], ref state);
            }

            if (bit >= value.Length)
            {
                return;
            }

            node = (value.Bit(bit) == 0 ? _zero : _one)[node];
            if (node < 0)
            {
                return;
            }
        }
    }

    public delegate void VisitChain<TState>(int head, ref TState state);
}
