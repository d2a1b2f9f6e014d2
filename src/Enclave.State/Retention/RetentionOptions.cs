namespace Enclave.State.Retention;

/// <summary>
/// Content retention (configuration section <c>Retention</c>): off by default, so the ledger holds only digests of
/// prompts and answers. When on, each request's prompt and answer are kept encrypted (AES-256-GCM) in
/// <c>retention.db</c> for <see cref="Days"/> days, then deleted.
/// </summary>
public sealed record RetentionOptions
{
    /// <summary>Whether prompts and answers are kept.</summary>
    public bool Enabled { get; init; }

    /// <summary>How long a record is kept, in days (1 to 3650).</summary>
    public int Days { get; init; }

    /// <summary>
    /// A file holding the 256-bit key (base64, as <c>enclave retention keygen</c> writes it). Keep it apart from the
    /// data directory (another volume, a smart-card-backed mount): whoever has both reads the content.
    /// </summary>
    public string? KeyFile { get; init; }

    /// <summary>Every problem with these options (empty when valid or disabled).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Enabled)
        {
            return problems;
        }

        if (Days is < 1 or > 3650)
        {
            problems.Add("Retention:Days must be between 1 and 3650 when retention is enabled");
        }

        if (string.IsNullOrWhiteSpace(KeyFile))
        {
            problems.Add("Retention:KeyFile is required when retention is enabled (create one with `enclave retention keygen --out FILE`)");
        }

        return problems;
    }
}
