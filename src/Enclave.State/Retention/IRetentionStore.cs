namespace Enclave.State.Retention;

/// <summary>Retained request content (sealed by the caller) in <c>retention.db</c>, keyed by the admitted entry's ledger index.</summary>
public interface IRetentionStore
{
    /// <summary>Stores the records in one transaction, replacing any with the same index.</summary>
    void Put(IEnumerable<RetainedRow> records);

    /// <summary>The record of <paramref name="admittedIndex"/> unless it expired by <paramref name="now"/>; null otherwise.</summary>
    RetainedRow? Find(long admittedIndex, DateTimeOffset now);

    /// <summary>Deletes the records expired by <paramref name="now"/> and gives their space back; returns how many.</summary>
    int Purge(DateTimeOffset now);

    /// <summary>Number of records kept (expired ones included until purged).</summary>
    long Count();
}

/// <summary>A retained record as stored: the prompt and answer are sealed (encrypted and authenticated) by the caller.</summary>
public sealed record RetainedRow(
    long AdmittedIndex, string RequestId, string Actor, DateTimeOffset Created, DateTimeOffset Expires, string KeyId, byte[] Prompt, byte[]? Answer);
