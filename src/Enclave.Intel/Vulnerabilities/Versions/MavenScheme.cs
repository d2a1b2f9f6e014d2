using System.Diagnostics.CodeAnalysis;

namespace Enclave.Intel.Vulnerabilities.Versions;

/// <summary>
/// Maven's <c>ComparableVersion</c> rules, written against its documentation: items split at <c>.</c>, <c>-</c> and
/// at every digit/letter transition (a <c>-</c> or a transition opens a sub-list); trailing "null" items
/// (<c>0</c>, <c>""</c>, <c>final</c>, <c>ga</c>, <c>release</c>) are dropped; qualifiers order
/// <c>alpha &lt; beta &lt; milestone &lt; rc = cr &lt; snapshot &lt; "" = final = ga = release &lt; sp</c>, unknown
/// qualifiers after those (lexically), <c>a1</c>/<c>b1</c>/<c>m1</c> abbreviate alpha/beta/milestone when followed by
/// a digit; a number sorts above any qualifier. Every string is a Maven version, so this never answers unknown.
/// </summary>
public sealed class MavenScheme : VersionScheme
{
    private static readonly string[] Qualifiers = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
    private static readonly string ReleaseIndex = "5";

    public static MavenScheme Instance { get; } = new();

    public override string Name => "Maven";

    public override bool TryParse(string text, [NotNullWhen(true)] out IComparable? version)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 256)
        {
            version = null;
            return false;
        }

        version = new MavenVersion(Parse(text.ToLowerInvariant()));
        return true;
    }

    private static ListItem Parse(string v)
    {
        var root = new ListItem();
        var list = root;
        var stack = new Stack<ListItem>();
        stack.Push(list);
        var isDigit = false;
        var start = 0;
        for (var i = 0; i < v.Length; i++)
        {
            var c = v[i];
            if (c == '.')
            {
                list.Add(i == start ? IntItem.Zero : MakeItem(isDigit, v[start..i], followedByDigit: false));
                start = i + 1;
            }
            else if (c == '-')
            {
                list.Add(i == start ? IntItem.Zero : MakeItem(isDigit, v[start..i], followedByDigit: false));
                start = i + 1;
                var sub = new ListItem();
                list.Add(sub);
                list = sub;
                stack.Push(list);
            }
            else if (char.IsAsciiDigit(c))
            {
                if (!isDigit && i > start)
                {
                    list.Add(new StringItem(v[start..i], followedByDigit: true));
                    start = i;
                    var sub = new ListItem();
                    list.Add(sub);
                    list = sub;
                    stack.Push(list);
                }

                isDigit = true;
            }
            else
            {
                if (isDigit && i > start)
                {
                    list.Add(new IntItem(v[start..i]));
                    start = i;
                    var sub = new ListItem();
                    list.Add(sub);
                    list = sub;
                    stack.Push(list);
                }

                isDigit = false;
            }
        }

        if (v.Length > start)
        {
            list.Add(MakeItem(isDigit, v[start..], followedByDigit: false));
        }

        while (stack.Count > 0)
        {
            stack.Pop().Normalize();
        }

        return root;
    }

    private static Item MakeItem(bool isDigit, string text, bool followedByDigit) =>
        isDigit ? new IntItem(text) : new StringItem(text, followedByDigit);

    private abstract class Item
    {
        public abstract bool IsNull { get; }

        public abstract int CompareTo(Item? other);
    }

    private sealed class IntItem(string digits) : Item
    {
        public static readonly IntItem Zero = new("0");

        private readonly string _digits = digits;

        public override bool IsNull => DigitString.IsZero(_digits);

        public override int CompareTo(Item? other) => other switch
        {
            null => IsNull ? 0 : 1,
            IntItem i => DigitString.Compare(_digits, i._digits),
            _ => 1, // a number is newer than a qualifier or a sub-list
        };
    }

    private sealed class StringItem : Item
    {
        private readonly string _value;

        public StringItem(string value, bool followedByDigit)
        {
            if (followedByDigit && value.Length == 1)
            {
                value = value[0] switch
                {
                    'a' => "alpha",
                    'b' => "beta",
                    'm' => "milestone",
                    _ => value,
                };
            }

            _value = value switch
            {
                "ga" or "final" or "release" => "",
                "cr" => "rc",
                _ => value,
            };
        }

        public override bool IsNull => Comparable(_value) == ReleaseIndex;

        public override int CompareTo(Item? other) => other switch
        {
            null => Math.Sign(string.CompareOrdinal(Comparable(_value), ReleaseIndex)),
            IntItem => -1,
            StringItem s => Math.Sign(string.CompareOrdinal(Comparable(_value), Comparable(s._value))),
            _ => -1, // a qualifier is older than a sub-list
        };

        private static string Comparable(string qualifier)
        {
            var index = Array.IndexOf(Qualifiers, qualifier);
            return index >= 0
                ? index.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : Qualifiers.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + "-" + qualifier;
        }
    }

    private sealed class ListItem : Item
    {
        private readonly List<Item> _items = [];

        public override bool IsNull => _items.Count == 0;

        public void Add(Item item) => _items.Add(item);

        public void Normalize()
        {
            for (var i = _items.Count - 1; i >= 0; i--)
            {
                var last = _items[i];
                if (last.IsNull)
                {
                    _items.RemoveAt(i);
                }
                else if (last is not ListItem)
                {
                    break;
                }
            }
        }

        public override int CompareTo(Item? other)
        {
            switch (other)
            {
                case null:
                    foreach (var item in _items)
                    {
                        var r = item.CompareTo(null);
                        if (r != 0)
                        {
                            return r;
                        }
                    }

                    return 0;
                case IntItem:
                    return -1;
                case StringItem:
                    return 1;
                case ListItem list:
                    for (var i = 0; i < Math.Max(_items.Count, list._items.Count); i++)
                    {
                        var left = i < _items.Count ? _items[i] : null;
                        var right = i < list._items.Count ? list._items[i] : null;
                        var r = left is null ? (right is null ? 0 : -right.CompareTo(null)) : left.CompareTo(right);
                        if (r != 0)
                        {
                            return r;
                        }
                    }

                    return 0;
                default:
                    return 0;
            }
        }
    }

    private sealed class MavenVersion(ListItem items) : IComparable
    {
        private readonly ListItem _items = items;

        public int CompareTo(object? obj) => obj is MavenVersion other
            ? _items.CompareTo(other._items)
            : throw new ArgumentException("not a Maven version", nameof(obj));
    }
}
