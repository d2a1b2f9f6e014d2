namespace Enclave.Inference.Structured;

/// <summary>
/// A JSON array: <c>prefixItems</c>, then <c>items</c> (null: no more items), with <c>minItems</c>/<c>maxItems</c>.
/// </summary>
internal sealed class ArrayNode(IReadOnlyList<GrammarNode> prefixItems, GrammarNode? items, int minItems, int maxItems) : GrammarNode
{
    private int[] _close = []; // fewest bytes to close after `count` items (',' + item for each missing one, then ']')

    public IReadOnlyList<GrammarNode> PrefixItems { get; } = prefixItems;

    public GrammarNode? Items { get; } = items;

    public int MinItems { get; } = minItems;

    public int MaxItems { get; } = maxItems;

    public override IEnumerable<GrammarNode> Children => Items is null ? PrefixItems : [.. PrefixItems, Items];

    public override int ComputeMinBytes()
    {
        var close = Close();
        return GrammarMath.Add(1, AfterOpen(close));
    }

    public override void Seal() => _close = Close();

    public override void Begin(byte b, GrammarStack rest, List<GrammarStack> sink)
    {
        if (b == '[')
        {
            var stack = new GrammarStack(new ArrayFrame(this, ArrayMode.AfterOpen, 0), rest);
            if (stack.Alive)
            {
                sink.Add(stack);
            }
        }
    }

    private GrammarNode? Item(int index) => index < PrefixItems.Count ? PrefixItems[index] : Items;

    private int ItemMin(int index) => index >= MaxItems ? GrammarMath.Infinite : Item(index)?.MinBytes ?? GrammarMath.Infinite;

    private int[] Close()
    {
        var close = new int[MinItems + 1];
        close[MinItems] = 1;
        for (var count = MinItems - 1; count >= 0; count--)
        {
            close[count] = GrammarMath.Add(1, ItemMin(count), close[count + 1]);
        }

        return close;
    }

    private int CloseAfter(int[] close, int count) => count >= MinItems ? 1 : close[count];

    private int AfterOpen(int[] close) =>
        MinItems == 0 ? 1 : GrammarMath.Add(ItemMin(0), CloseAfter(close, 1));

    private enum ArrayMode : byte
    {
        AfterOpen,
        AfterValue,
        AfterComma,
    }

    private sealed class ArrayFrame : GrammarFrame
    {
        private readonly ArrayNode _node;
        private readonly ArrayMode _mode;
        private readonly int _count;

        public ArrayFrame(ArrayNode node, ArrayMode mode, int count)
        {
            _node = node;
            _mode = mode;
            _count = count;
            MinRemaining = mode switch
            {
                ArrayMode.AfterOpen => node.AfterOpen(node._close),
                ArrayMode.AfterValue => node.CloseAfter(node._close, count),
                _ => GrammarMath.Add(node.ItemMin(count), node.CloseAfter(node._close, count + 1)),
            };
        }

        public override int MinRemaining { get; }

        public override bool CanEnd => false;

        public override void Feed(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            switch (_mode)
            {
                case ArrayMode.AfterOpen:
                    if (b == ']')
                    {
                        if (_node.MinItems == 0)
                        {
                            Pop(rest, sink);
                        }
                    }
                    else
                    {
                        BeginItem(b, rest, sink);
                    }

                    break;
                case ArrayMode.AfterValue:
                    if (b == ']' && _count >= _node.MinItems)
                    {
                        Pop(rest, sink);
                    }
                    else if (b == ',' && _node.ItemMin(_count) < GrammarMath.Infinite)
                    {
                        Emit(sink, new ArrayFrame(_node, ArrayMode.AfterComma, _count), rest);
                    }

                    break;
                default:
                    BeginItem(b, rest, sink);
                    break;
            }
        }

        private void BeginItem(byte b, GrammarStack? rest, List<GrammarStack> sink)
        {
            if (_node.ItemMin(_count) >= GrammarMath.Infinite)
            {
                return;
            }

            var after = new GrammarStack(new ArrayFrame(_node, ArrayMode.AfterValue, _count + 1), rest);
            if (after.Alive)
            {
                _node.Item(_count)!.Begin(b, after, sink);
            }
        }
    }
}
