namespace Enclave.Core.Audit;

/// <summary>
/// Read access to the ledger's history in bounded batches, for work that walks every past entry (the intel
/// retro-hunt). It lives here, beside <see cref="ILedger"/>, so that Intel reads the history without referencing the
/// SQLite ledger; <c>Enclave.Ledger.LedgerReader</c> implements it over a read-only snapshot.
/// </summary>
public interface ILedgerHistory : IDisposable
{
    /// <summary>
    /// Up to <paramref name="count"/> consecutive entries (their exact bytes) from <paramref name="start"/>; fewer at the
    /// end of the log and at most the implementation's batch bound; none past the end.
    /// </summary>
    IReadOnlyList<byte[]> ReadEntries(long start, int count);
}
