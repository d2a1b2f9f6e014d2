using System.Text;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.Ledger.Checkpoints;
using Enclave.Signing.Notes;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// C2SP signed notes and checkpoints. <c>note</c>: the ledger auditor's path (open the note with a known key, parse
/// the checkpoint, check origin and key), rejection <see cref="LedgerVerificationException"/>. The note is always signed by the C2SP example key, so mutations of the body reach
/// the checkpoint parser only where they keep the signature valid; <c>checkpoint</c> covers the body parsers directly.
/// </summary>
internal static class NoteTargets
{
    // The C2SP signed-note example key (c2sp.org/signed-note).
    private const string PeterPrivateKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    private const string PeterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    private static readonly string[] VerifierKeys = [PeterVerifierKey];

    public static Harness SignedNote { get; } = new()
    {
        Name = "note",
        Parser = "Enclave.Signing.Notes.SignedNote, Enclave.Ledger.LedgerAuditor.VerifyCheckpoint",
        Run = input =>
        {
            try
            {
                LedgerAuditor.VerifyCheckpoint(input, VerifierKeys);
            }
            catch (LedgerVerificationException)
            {
            }
        },
        Seeds = () =>
        [
            ("checkpoint.note", Sign(CheckpointText(Origin, 7, ["ext: one"]))),
            ("plain.note", Sign("If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n")),
            ("two-signatures.note", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Sign(CheckpointText(Origin, 0, []))) + "\u2014 other.example/log AAAAAQ==\n")),
        ],
    };

    public static Harness Checkpoint { get; } = new()
    {
        Name = "checkpoint",
        Parser = "Enclave.Ledger.Checkpoints.Checkpoint, TlogProof, LedgerAuditor.ParseProofLines",
        Run = input =>
        {
            var text = Encoding.UTF8.GetString(input);
            Accept(() => Ledger.Checkpoints.Checkpoint.Parse(text));
            Accept(() => TlogProof.Parse(text));
            Accept(() => LedgerAuditor.ParseProofLines(text));
        },
        Seeds = () =>
        [
            Seeds.Text("checkpoint.txt", CheckpointText(Origin, 12345, ["extension line"])),
            Seeds.Text("tlog-proof.txt", new TlogProof
            {
                Index = 3,
                Proof = [Sha256Digest.Compute("a"u8), Sha256Digest.Compute("b"u8)],
                SignedCheckpoint = Encoding.UTF8.GetString(Sign(CheckpointText(Origin, 7, []))),
            }.Format()),
            Seeds.Text("proof-lines.txt", Sha256Digest.Compute("a"u8).ToBase64() + "\n" + Sha256Digest.Compute("b"u8).ToBase64() + "\n"),
        ],
    };

    private const string Origin = "PeterNeumann";

    private static string CheckpointText(string origin, long size, string[] extensions) =>
        new Ledger.Checkpoints.Checkpoint { Origin = origin, Size = size, RootHash = Sha256Digest.Compute(Encoding.UTF8.GetBytes($"root {size}")), Extensions = extensions }.Format();

    private static byte[] Sign(string text)
    {
        using var key = Ed25519NoteKey.ParsePrivateKey(PeterPrivateKey);
        return Encoding.UTF8.GetBytes(Signing.Notes.SignedNote.Sign(text, key));
    }

    private static void Accept(Func<object> parse)
    {
        try
        {
            parse();
        }
        catch (EnclaveFormatException)
        {
        }
    }
}
