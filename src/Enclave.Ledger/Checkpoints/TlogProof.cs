using System.Globalization;
using System.Text;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger.Merkle;

namespace Enclave.Ledger.Checkpoints;

/// <summary>
/// A C2SP tlog-proof (<c>c2sp.org/tlog-proof@v1</c>): an entry's index, its inclusion proof and the signed checkpoint
/// it is proven against, verifiable offline. Conventionally stored with the extension <c>.tlog-proof</c>.
/// </summary>
public sealed record TlogProof
{
    public const string Header = "c2sp.org/tlog-proof@v1";

    /// <summary>Largest proof file accepted (a checkpoint with many post-quantum signatures fits easily).</summary>
    public const int MaxSize = 256 * 1024;

    public required long Index { get; init; }
    public required IReadOnlyList<Sha256Digest> Proof { get; init; }
    public required string SignedCheckpoint { get; init; }
    public byte[]? Extra { get; init; }

    public string Format()
    {
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        if (Extra is { Length: > 0 })
        {
            sb.Append("extra ").Append(Convert.ToBase64String(Extra)).Append('\n');
        }

        sb.Append("index ").Append(Index.ToString(CultureInfo.InvariantCulture)).Append('\n');
        foreach (var hash in Proof)
        {
            sb.Append(hash.ToBase64()).Append('\n');
        }

        sb.Append('\n').Append(SignedCheckpoint);
        return sb.ToString();
    }

    public static TlogProof Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxSize)
        {
            throw new EnclaveFormatException($"tlog-proof is {text.Length} characters; the limit is {MaxSize}");
        }

        var blank = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (blank < 0)
        {
            throw new EnclaveFormatException("tlog-proof has no empty line before its checkpoint");
        }

        var lines = text[..blank].Split('\n');
        if (lines[0] != Header)
        {
            throw new EnclaveFormatException($"tlog-proof must start with '{Header}'");
        }

        var i = 1;
        byte[]? extra = null;
        if (i < lines.Length && lines[i].StartsWith("extra ", StringComparison.Ordinal))
        {
            try
            {
                extra = Convert.FromBase64String(lines[i]["extra ".Length..]);
            }
            catch (FormatException ex)
            {
                throw new EnclaveFormatException("tlog-proof extra data is not base64", ex);
            }

            i++;
        }

        if (i >= lines.Length || !lines[i].StartsWith("index ", StringComparison.Ordinal))
        {
            throw new EnclaveFormatException("tlog-proof lacks its 'index' line");
        }

        var indexText = lines[i]["index ".Length..];
        if (indexText.Length == 0 || (indexText.Length > 1 && indexText[0] == '0') || !indexText.All(char.IsAsciiDigit)
            || !long.TryParse(indexText, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            throw new EnclaveFormatException($"tlog-proof index '{indexText}' is not a decimal number without leading zeros");
        }

        var proof = new List<Sha256Digest>();
        foreach (var line in lines[(i + 1)..])
        {
            if (proof.Count == MerkleVerifier.MaxInclusionProofLength)
            {
                throw new EnclaveFormatException($"tlog-proof has more than {MerkleVerifier.MaxInclusionProofLength} hashes");
            }

            proof.Add(Sha256Digest.TryParseBase64(line, out var h) ? h : throw new EnclaveFormatException($"tlog-proof hash line {proof.Count + 1} is not a base64 SHA-256 hash"));
        }

        return new TlogProof { Index = index, Proof = proof, SignedCheckpoint = text[(blank + 2)..], Extra = extra };
    }
}
