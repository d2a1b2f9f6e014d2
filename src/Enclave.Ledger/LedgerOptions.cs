namespace Enclave.Ledger;

/// <summary>Settings of a ledger writer.</summary>
public sealed record LedgerOptions
{
    /// <summary>The data directory (holds <c>enclave.db</c> and <c>keys/</c>).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// How often a signed checkpoint is published. Zero (the default) publishes one in every batch commit,
    /// so a checkpoint covering an entry exists as soon as its append returns.
    /// </summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.Zero;

    /// <summary>Most entries committed in one transaction (group commit).</summary>
    public int MaxBatchSize { get; init; } = 4096;

    /// <summary>
    /// The shortest time between the starts of two batch commits (group commit): entries that arrive meanwhile wait
    /// and share the next commit. An append after a quiet spell is committed at once. Zero commits whatever is queued
    /// as soon as the last commit ends. Linux sleeps in whole milliseconds here, so a value under 1 ms acts as 1 ms.
    /// </summary>
    public TimeSpan MinCommitInterval { get; init; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// On a database shared by replicas (PostgreSQL): most sequenced entries integrated into the tree in one transaction
    /// (the integrator reads them back and hashes them; more wait for its next transaction).
    /// </summary>
    public int MaxIntegrationBatchSize { get; init; } = 16384;

    /// <summary>Most appends waiting for the writer; further callers wait for room.</summary>
    public int MaxPendingAppends { get; init; } = 65536;

    /// <summary>
    /// The enclave's state, opened and migrated by the host (a PostgreSQL database, <c>State:Provider = postgres</c>); null:
    /// <c>enclave.db</c> in <see cref="DataDirectory"/>. The signing keys and the single-writer lock stay in the data directory.
    /// </summary>
    public Enclave.State.StateConnectionFactory? State { get; init; }

    /// <summary>
    /// On a database shared by replicas (PostgreSQL): how often a writer checks the checkpoint signer lease (the holder,
    /// that its session lives; the others, whether they can take it) and, when it signs, publishes a checkpoint over
    /// what the other writers appended. A new signer is elected within about this long of the old one's session ending.
    /// </summary>
    public TimeSpan SignerLeaseInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>What the writer tells the holder file it is doing (shown to a refused second writer).</summary>
    public string Purpose { get; init; } = "enclave ledger writer";

    /// <summary>Every problem with these settings (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            problems.Add("DataDirectory is required");
        }

        if (CheckpointInterval < TimeSpan.Zero || CheckpointInterval > TimeSpan.FromHours(1))
        {
            problems.Add("CheckpointInterval must be between 0 and 1 hour");
        }

        if (SignerLeaseInterval < TimeSpan.FromMilliseconds(10) || SignerLeaseInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add("SignerLeaseInterval must be between 10 ms and 1 minute");
        }

        if (MinCommitInterval < TimeSpan.Zero || MinCommitInterval > TimeSpan.FromSeconds(1))
        {
            problems.Add("MinCommitInterval must be between 0 and 1 s");
        }

        if (MaxBatchSize is < 1 or > 65536)
        {
            problems.Add("MaxBatchSize must be between 1 and 65536");
        }

        if (MaxIntegrationBatchSize is < 1 or > 65536)
        {
            problems.Add("MaxIntegrationBatchSize must be between 1 and 65536");
        }

        if (MaxPendingAppends < MaxBatchSize)
        {
            problems.Add("MaxPendingAppends must be at least MaxBatchSize");
        }

        return problems;
    }
}
