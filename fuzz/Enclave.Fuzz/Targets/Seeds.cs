using System.Text;

namespace Enclave.Fuzz.Targets;

internal static class Seeds
{
    public static (string Name, byte[] Bytes) Text(string name, string text) => (name, Encoding.UTF8.GetBytes(text));
}
