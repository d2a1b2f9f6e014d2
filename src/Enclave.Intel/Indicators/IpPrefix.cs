using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Enclave.Intel.Indicators;

/// <summary>An IPv4 or IPv6 address or CIDR block, as a left-aligned 128-bit value and a prefix length.</summary>
public readonly record struct IpPrefix(UInt128 Bits, int Length, bool IsV6)
{
    public int MaxLength => IsV6 ? 128 : 32;

    /// <summary>Parses <c>203.0.113.7</c>, <c>203.0.113.0/24</c>, <c>2001:db8::/32</c>; host bits below the prefix are cleared.</summary>
    public static bool TryParse(string? text, out IpPrefix prefix)
    {
        prefix = default;
        if (string.IsNullOrEmpty(text) || text.Length > 64)
        {
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0))
        {
            return false;
        }

        var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (!v6 && addressText.Count(c => c == '.') != 3)
        {
            return false; // IPAddress accepts "1" or "1.2"; STIX values are dotted quads
        }

        var max = v6 ? 128 : 32;
        var length = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }

        prefix = new IpPrefix(Mask(ToBits(address), length), length, v6);
        return true;
    }

    public static UInt128 ToBits(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return written == 4
            ? (UInt128)BinaryPrimitives.ReadUInt32BigEndian(bytes) << 96
            : BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    public static UInt128 Mask(UInt128 bits, int length) => length == 0 ? UInt128.Zero : bits & (UInt128.MaxValue << (128 - length));

    /// <summary>Whether <paramref name="other"/> lies inside this block (same family).</summary>
    public bool Contains(IpPrefix other) => IsV6 == other.IsV6 && other.Length >= Length && Mask(other.Bits, Length) == Bits;

    /// <summary>Bit <paramref name="index"/> from the left (0 = most significant).</summary>
    public int Bit(int index) => (int)((Bits >> (127 - index)) & UInt128.One);
}
