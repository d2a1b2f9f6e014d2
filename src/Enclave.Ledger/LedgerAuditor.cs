using Enclave.Core;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;
using Enclave.Signing.Notes;

namespace Enclave.Ledger;

/// <summary>
/// What an auditor runs offline with only public keys: verify a signed checkpoint, its consistency with an older
/// one, and recompute the whole tree from tiles (checking every entry against its leaf and every upper tile against
/// the tiles below). Every check fails closed with a <see cref="LedgerVerificationException"/> naming what was wrong.
/// </summary>
public static class LedgerAuditor
{
    /// <summary>Verifies a signed checkpoint note with the given verifier keys and parses it.</summary>
    public static Checkpoint VerifyCheckpoint(ReadOnlySpan<byte> signedNote, IReadOnlyList<string> verifierKeys, string? expectedOrigin = null)
    {
        ArgumentNullException.ThrowIfNull(verifierKeys);
        if (verifierKeys.Count == 0)
        {
            throw new ArgumentException("at least one verifier key is needed", nameof(verifierKeys));
        }

        var verifiers = verifierKeys.Select(VerifierKeys.Parse).ToList();
        OpenedNote opened;
        try
        {
            opened = SignedNote.Open(signedNote, verifiers);
        }
        catch (NoteVerificationException ex)
        {
            throw new LedgerVerificationException(LedgerFailure.BadSignature, $"checkpoint signature rejected: {ex.Message}");
        }

        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Parse(opened.Text);
        }
        catch (EnclaveFormatException ex)
        {
            throw new LedgerVerificationException(LedgerFailure.BadCheckpoint, $"signed note is not a checkpoint: {ex.Message}");
        }

        if (expectedOrigin is not null && checkpoint.Origin != expectedOrigin)
        {
            throw new LedgerVerificationException(LedgerFailure.WrongOrigin, $"checkpoint is for log '{checkpoint.Origin}', expected '{expectedOrigin}'");
        }

        // A verified key signed it; the key name must be the log's origin, else a key of another log was accepted.
        if (!opened.Verified.Any(s => s.Name == checkpoint.Origin))
        {
            throw new LedgerVerificationException(LedgerFailure.WrongOrigin, $"checkpoint for '{checkpoint.Origin}' is signed by '{opened.Verified[0].Name}', not by the log's key");
        }

        // ML-DSA-44 cosignatures (C2SP type 0x06) sign origin, size and root only, not extension lines: a note that only
        // such a key verified could carry extension lines added by anyone. Accept extensions only under a signature that covers them.
        if (checkpoint.Extensions.Count > 0)
        {
            var coveringKeys = verifierKeys.Zip(verifiers)
                .Where(pair => SignatureType(pair.First) == 0x01)
                .Select(pair => (pair.Second.Name, pair.Second.KeyId))
                .ToHashSet();
            if (!opened.Verified.Any(s => coveringKeys.Contains((s.Name, s.KeyId))))
            {
                throw new LedgerVerificationException(LedgerFailure.BadCheckpoint, "checkpoint has extension lines that no verified signature covers (ML-DSA-44 cosignatures do not sign them)");
            }
        }

        return checkpoint;
    }

    private static byte SignatureType(string verifierKey)
    {
        var encoded = verifierKey[(verifierKey.LastIndexOf('+') + 1)..];
        Span<byte> first = stackalloc byte[3];
        return Convert.TryFromBase64String(encoded[..Math.Min(4, encoded.Length)], first, out var written) && written > 0 ? first[0] : (byte)0;
    }

    /// <summary>Verifies that <paramref name="newer"/> extends <paramref name="older"/> (append-only) with <paramref name="proof"/>.</summary>
    public static void VerifyConsistency(Checkpoint older, Checkpoint newer, IReadOnlyList<Sha256Digest> proof)
    {
        ArgumentNullException.ThrowIfNull(older);
        ArgumentNullException.ThrowIfNull(newer);
        if (older.Origin != newer.Origin)
        {
            throw new LedgerVerificationException(LedgerFailure.WrongOrigin, $"checkpoints are of different logs: '{older.Origin}' and '{newer.Origin}'");
        }

        if (older.Size > newer.Size)
        {
            throw new LedgerVerificationException(LedgerFailure.Inconsistent, $"the older checkpoint (size {older.Size}) is larger than the newer one (size {newer.Size}): the log was rolled back");
        }

        if (!MerkleVerifier.VerifyConsistency(older.Size, newer.Size, older.RootHash, newer.RootHash, proof))
        {
            throw new LedgerVerificationException(LedgerFailure.Inconsistent, $"tree of size {newer.Size} is not an append-only extension of the tree of size {older.Size}: history was rewritten, or the proof is wrong");
        }
    }

    /// <summary>
    /// Recomputes the tree of <paramref name="checkpoint"/> from <paramref name="tiles"/>: every level-0 hash from its entry
    /// (when <paramref name="checkEntries"/>), every upper tile from the tiles below, and the root against the checkpoint.
    /// Reads each tile once; memory stays constant.
    /// </summary>
    public static TileAuditResult VerifyTiles(ITileReader tiles, Checkpoint checkpoint, bool checkEntries = true, IProgress<long>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var size = checkpoint.Size;
        var range = new CompactRange();
        var upper = new Dictionary<int, (long Index, byte[] Hashes)>();
        long tilesRead = 0;
        var fullTiles = TilePath.FullTiles(0, size);
        for (long n = 0; n * TilePath.TileWidth < size; n++)
        {
            var width = n < fullTiles ? TilePath.TileWidth : TilePath.PartialWidth(0, size);
            var leaves = tiles.ReadTile(0, n, width)
                ?? throw new LedgerVerificationException(LedgerFailure.TileMissing, $"tile {TilePath.Tile(0, n, width)} is missing");
            tilesRead++;
            if (checkEntries)
            {
                CheckBundle(tiles, n, width, leaves);
            }

            for (var i = 0; i < width; i++)
            {
                var leaf = new Sha256Digest(leaves.AsSpan(i * Sha256Digest.Size, Sha256Digest.Size));
                range.Append(leaf, (level, index, hash) =>
                {
                    if (level == 0 || level % TilePath.TileHeight != 0)
                    {
                        return;
                    }

                    var tileLevel = level / TilePath.TileHeight;
                    var tileIndex = index / TilePath.TileWidth;
                    if (!upper.TryGetValue(tileLevel, out var tile) || tile.Index != tileIndex)
                    {
                        var available = size >> (TilePath.TileHeight * tileLevel);
                        var w = (int)Math.Min(TilePath.TileWidth, available - (tileIndex * TilePath.TileWidth));
                        tile = (tileIndex, tiles.ReadTile(tileLevel, tileIndex, w)
                            ?? throw new LedgerVerificationException(LedgerFailure.TileMissing, $"tile {TilePath.Tile(tileLevel, tileIndex, w)} is missing"));
                        upper[tileLevel] = tile;
                        tilesRead++;
                    }

                    var stored = new Sha256Digest(tile.Hashes.AsSpan((int)(index % TilePath.TileWidth) * Sha256Digest.Size, Sha256Digest.Size));
                    if (stored != hash)
                    {
                        throw new LedgerVerificationException(LedgerFailure.TileCorrupt,
                            $"tile {TilePath.Tile(tileLevel, tileIndex, TilePath.TileWidth)} hash {index % TilePath.TileWidth} disagrees with the tiles below it");
                    }
                });
            }

            progress?.Report(range.Size);
        }

        var root = range.Root();
        if (root != checkpoint.RootHash)
        {
            throw new LedgerVerificationException(LedgerFailure.RootMismatch,
                $"the tiles give root {root.ToBase64()} for size {size}, but the checkpoint says {checkpoint.RootHash.ToBase64()}");
        }

        return new TileAuditResult { TreeSize = size, RootHash = root, TilesRead = tilesRead, EntriesChecked = checkEntries ? size : 0 };
    }

    private static void CheckBundle(ITileReader tiles, long n, int width, byte[] leaves)
    {
        var bundle = tiles.ReadEntryBundle(n, width)
            ?? throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entry bundle {TilePath.EntryBundle(n, width)} is missing");
        var offset = 0;
        for (var i = 0; i < width; i++)
        {
            if (offset + 2 > bundle.Length)
            {
                throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entry bundle {TilePath.EntryBundle(n, width)} is truncated at entry {i}");
            }

            var length = (bundle[offset] << 8) | bundle[offset + 1];
            offset += 2;
            if (offset + length > bundle.Length)
            {
                throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entry bundle {TilePath.EntryBundle(n, width)} is truncated in entry {i}");
            }

            var leaf = MerkleHash.Leaf(bundle.AsSpan(offset, length));
            if (leaf != new Sha256Digest(leaves.AsSpan(i * Sha256Digest.Size, Sha256Digest.Size)))
            {
                throw new LedgerVerificationException(LedgerFailure.EntryMismatch,
                    $"entry {(n * TilePath.TileWidth) + i} in {TilePath.EntryBundle(n, width)} does not hash to its leaf in the tree: it was altered");
            }

            offset += length;
        }

        if (offset != bundle.Length)
        {
            throw new LedgerVerificationException(LedgerFailure.EntryMismatch, $"entry bundle {TilePath.EntryBundle(n, width)} has {bundle.Length - offset} trailing bytes");
        }
    }

    /// <summary>Verifies that <paramref name="entry"/> is at <paramref name="index"/> in the tree of <paramref name="checkpoint"/>.</summary>
    public static void VerifyInclusion(ReadOnlySpan<byte> entry, long index, Checkpoint checkpoint, IReadOnlyList<Sha256Digest> proof)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!MerkleVerifier.VerifyInclusion(MerkleHash.Leaf(entry), index, checkpoint.Size, proof, checkpoint.RootHash))
        {
            throw new LedgerVerificationException(LedgerFailure.BadProof, $"entry is not at index {index} of the tree of size {checkpoint.Size} with root {checkpoint.RootHash.ToBase64()}");
        }
    }

    /// <summary>Reads a file of base64 hashes, one per line (the output of <c>enclave ledger prove</c> / <c>consistency</c>).</summary>
    public static IReadOnlyList<Sha256Digest> ParseProofLines(string text, int maxHashes = MerkleVerifier.MaxConsistencyProofLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hashes = new List<Sha256Digest>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            if (hashes.Count == maxHashes)
            {
                throw new EnclaveFormatException($"proof has more than {maxHashes} hashes");
            }

            hashes.Add(Sha256Digest.TryParseBase64(line, out var h) ? h : throw new EnclaveFormatException($"proof line {hashes.Count + 1} is not a base64 SHA-256 hash"));
        }

        return hashes;
    }
}

/// <summary>What a tile audit checked.</summary>
public sealed record TileAuditResult
{
    public required long TreeSize { get; init; }
    public required Sha256Digest RootHash { get; init; }
    public required long TilesRead { get; init; }
    public required long EntriesChecked { get; init; }
}
