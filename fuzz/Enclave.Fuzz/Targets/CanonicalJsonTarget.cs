using Enclave.Core;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// <see cref="CanonicalJson"/> (RFC 8785 style, used for ledger entries and policy digests): strict parse and
/// canonicalize; rejection is <see cref="EnclaveFormatException"/>. Also checks that canonical output is a fixed point.
/// </summary>
internal static class CanonicalJsonTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "canonical-json",
        Parser = "Enclave.Core.CanonicalJson",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("object.json", """{"b":[1,2.5,-0,1e21,true,null],"a":{"\u00e9":"\ud83d\ude00","z":"\n"}}"""),
            Seeds.Text("numbers.json", "[0,1E-7,123456789012345678901234567890,-1.5e-300,9007199254740993]"),
            Seeds.Text("nested.json", "[[[[{\"k\":[[]]}]]]]"),
            Seeds.Text("duplicate.json", """{"a":1,"a":2}"""),
            Seeds.Text("string.json", "\"\\u0000\\u001f\\\"\\\\/\u2028\""),
        ],
    };

    private static void Run(byte[] input)
    {
        byte[] canonical;
        try
        {
            canonical = CanonicalJson.Canonicalize(input);
        }
        catch (EnclaveFormatException)
        {
            return;
        }

        var again = CanonicalJson.Canonicalize(canonical);
        if (!again.AsSpan().SequenceEqual(canonical))
        {
            throw new FuzzFindingException("canonical JSON is not a fixed point: canonicalizing the canonical form changed it");
        }
    }
}
