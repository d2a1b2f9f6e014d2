using System.Text;

namespace Enclave.Signing.Tests;

internal static class NoteBytes
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Inserts <paramref name="insert"/> at a byte offset, like Go's s[:i] + x + s[i:].</summary>
    public static byte[] InsertAt(string text, int byteOffset, string insert)
    {
        var bytes = Utf8(text);
        return [.. bytes.AsSpan(0, byteOffset), .. Utf8(insert), .. bytes.AsSpan(byteOffset)];
    }
}
