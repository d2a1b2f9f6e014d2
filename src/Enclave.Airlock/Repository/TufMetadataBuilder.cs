using System.Globalization;
using Enclave.Airlock.Tuf;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Repository;

/// <summary>
/// Builds and signs TUF metadata envelopes with the verifier's own canonical JSON (<see cref="TufJson"/>): a
/// signature is over the canonical bytes of <c>signed</c>; files are written as ordinary JSON (<see cref="TufJsonFormat.Serialize"/>).
/// </summary>
internal static class TufMetadataBuilder
{
    /// <summary>The TUF specification version written into every file.</summary>
    public const string SpecVersion = "1.0.31";

    /// <summary>Deepest JSON nesting accepted when an envelope is parsed back (the repository's own or a bundle's).</summary>
    public const int MaxJsonDepth = 32;

    public static Dictionary<string, object?> Common(string type, int version, DateTimeOffset expires) => new(StringComparer.Ordinal)
    {
        ["_type"] = type,
        ["spec_version"] = SpecVersion,
        ["version"] = (long)version,
        ["expires"] = Iso(expires),
    };

    /// <summary>The TUF date form, <c>YYYY-MM-DDTHH:MM:SSZ</c>.</summary>
    public static string Iso(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Truncates to whole seconds, as metadata stores it.</summary>
    public static DateTimeOffset WholeSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());

    public static Dictionary<string, object?> Role(IEnumerable<string> keyIds, int threshold) => new(StringComparer.Ordinal)
    {
        ["keyids"] = keyIds.Select(id => (object?)id).ToList(),
        ["threshold"] = (long)threshold,
    };

    public static Dictionary<string, object?> MetaVersion(int version) => new(StringComparer.Ordinal) { ["version"] = (long)version };

    /// <summary>Signs <paramref name="signed"/> with each of <paramref name="signers"/> (in order, once per key).</summary>
    public static byte[] Envelope(Dictionary<string, object?> signed, IEnumerable<RepositoryKey> signers) =>
        Write(signed, [], signers);

    /// <summary>
    /// Adds signatures by <paramref name="signers"/> to an existing envelope, keeping the signed body byte for byte.
    /// A key that already signed is signed again (replacing its old entry), so a stale signature is repaired.
    /// </summary>
    public static byte[] AddSignatures(byte[] envelope, IEnumerable<RepositoryKey> signers)
    {
        var (signed, signatures) = Split(envelope);
        return Write(signed, signatures, signers);
    }

    /// <summary>The <c>signed</c> object of an envelope, as a fresh mutable tree.</summary>
    public static Dictionary<string, object?> Signed(byte[] envelope) => Split(envelope).Signed;

    private static (Dictionary<string, object?> Signed, List<object?> Signatures) Split(byte[] envelope)
    {
        var document = TufFields.Object(TufJson.Parse(envelope, MaxJsonDepth), "metadata");
        return (TufFields.Object(TufFields.Required(document, "signed", "metadata"), "signed"),
            TufFields.Array(TufFields.Required(document, "signatures", "metadata"), "signatures"));
    }

    private static byte[] Write(Dictionary<string, object?> signed, List<object?> existing, IEnumerable<RepositoryKey> signers)
    {
        var body = TufJson.Canonicalize(signed);
        var signatures = new List<object?>(existing);
        foreach (var key in signers.DistinctBy(k => k.KeyId))
        {
            signatures.RemoveAll(s => s is Dictionary<string, object?> d && d.GetValueOrDefault("keyid") is string id && id == key.KeyId);
            signatures.Add(new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["keyid"] = key.KeyId,
                ["sig"] = Convert.ToHexStringLower(key.Sign(body)),
            });
        }

        return TufJsonFormat.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal) { ["signed"] = signed, ["signatures"] = signatures });
    }
}
