using System.Globalization;
using System.Text;

namespace Enclave.Ledger.Tiles;

/// <summary>C2SP tlog-tiles resource paths: <c>tile/&lt;L&gt;/&lt;N&gt;[.p/&lt;W&gt;]</c> and <c>tile/entries/&lt;N&gt;[.p/&lt;W&gt;]</c>.</summary>
public static class TilePath
{
    /// <summary>Hashes per full tile.</summary>
    public const int TileWidth = 256;

    /// <summary>Tree levels per tile level.</summary>
    public const int TileHeight = 8;

    /// <summary>Path of the Merkle tile at tile level <paramref name="level"/>, index <paramref name="index"/>.</summary>
    public static string Tile(int level, long index, int width) =>
        $"tile/{level.ToString(CultureInfo.InvariantCulture)}/{EncodeIndex(index)}{PartialSuffix(width)}";

    /// <summary>Path of entry bundle <paramref name="index"/>.</summary>
    public static string EntryBundle(long index, int width) => $"tile/entries/{EncodeIndex(index)}{PartialSuffix(width)}";

    /// <summary>Encodes N as zero-padded 3-digit path elements, all but the last prefixed with 'x'.</summary>
    public static string EncodeIndex(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var groups = new List<string>();
        do
        {
            groups.Add((index % 1000).ToString("D3", CultureInfo.InvariantCulture));
            index /= 1000;
        }
        while (index > 0);

        var sb = new StringBuilder();
        for (var i = groups.Count - 1; i >= 0; i--)
        {
            if (i > 0)
            {
                sb.Append('x').Append(groups[i]).Append('/');
            }
            else
            {
                sb.Append(groups[i]);
            }
        }

        return sb.ToString();
    }

    /// <summary>Width of the partial tile at <paramref name="level"/> for a tree of <paramref name="treeSize"/> (0: none).</summary>
    public static int PartialWidth(int level, long treeSize) => (int)((treeSize >> (TileHeight * level)) % TileWidth);

    /// <summary>Number of full tiles at <paramref name="level"/> for a tree of <paramref name="treeSize"/>.</summary>
    public static long FullTiles(int level, long treeSize) => treeSize >> (TileHeight * (level + 1));

    private static string PartialSuffix(int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, TileWidth);
        return width == TileWidth ? string.Empty : $".p/{width.ToString(CultureInfo.InvariantCulture)}";
    }
}
