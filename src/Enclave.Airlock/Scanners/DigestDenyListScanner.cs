using System.Security.Cryptography;
using Enclave.Core;

namespace Enclave.Airlock.Scanners;

/// <summary>Refuses files whose SHA-256 is on a deny-list of known-bad content.</summary>
public sealed class DigestDenyListScanner : IContentScanner
{
    private readonly HashSet<Sha256Digest> _denied;

    public DigestDenyListScanner(IEnumerable<Sha256Digest> denied)
    {
        ArgumentNullException.ThrowIfNull(denied);
        _denied = [.. denied];
    }

    /// <inheritdoc/>
    public string Name => "deny-list";

    /// <summary>Number of digests on the list.</summary>
    public int Count => _denied.Count;

    /// <summary>
    /// Parses a deny-list: one lower- or upper-case hex SHA-256 per line, optionally followed by a comment;
    /// blank lines and lines starting with <c>#</c> are skipped. A bad line is an error, not skipped.
    /// </summary>
    public static DigestDenyListScanner Parse(TextReader reader, int maxEntries = 10_000_000)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var digests = new List<Sha256Digest>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var text = line.Trim();
            if (text.Length == 0 || text[0] == '#')
            {
                continue;
            }

            var hex = text.Split([' ', '\t'], 2)[0];
            if (!Sha256Digest.TryParseHex(hex, out var digest))
            {
                throw new EnclaveFormatException($"deny-list line {lineNumber} is not a SHA-256 in hex: '{hex[..Math.Min(hex.Length, 80)]}'");
            }

            if (digests.Count >= maxEntries)
            {
                throw new EnclaveFormatException($"deny-list has more than {maxEntries} entries");
            }

            digests.Add(digest);
        }

        return new DigestDenyListScanner(digests);
    }

    /// <summary>Whether <paramref name="digest"/> is denied (for callers that already hashed the content).</summary>
    public bool IsDenied(Sha256Digest digest) => _denied.Contains(digest);

    /// <inheritdoc/>
    public bool Applies(string path) => true;

    /// <inheritdoc/>
    public ScanResult Scan(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1024 * 1024, FileOptions.SequentialScan);
        Span<byte> hash = stackalloc byte[Sha256Digest.Size];
        SHA256.HashData(file, hash);
        var digest = new Sha256Digest(hash);
        IReadOnlyList<string> findings = IsDenied(digest)
            ? [$"{path}: SHA-256 {digest} is on the deny-list of known-bad content; refused"]
            : [];
        return ScanResult.Of(Name, path, findings);
    }
}
