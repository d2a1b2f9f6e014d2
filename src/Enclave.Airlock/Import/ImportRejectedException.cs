using Enclave.Airlock.Bundles;
using Enclave.Airlock.Tuf;
using Enclave.Core;

namespace Enclave.Airlock.Import;

/// <summary>
/// A bundle was refused. By the time this is thrown, the quarantine is removed, the trusted TUF versions are
/// unchanged, nothing is in the registry or the blob store, and the ledger holds an <c>import.rejected</c> entry.
/// </summary>
public sealed class ImportRejectedException : Exception, IEnclaveError<ImportRejection>
{
    /// <summary>Creates a rejection.</summary>
    public ImportRejectedException(ImportRejection reason, string detail, Exception? innerException = null, IReadOnlyList<string>? findings = null)
        : base($"import rejected ({Describe(reason, innerException)}): {detail}; nothing was imported", innerException)
    {
        Reason = reason;
        Detail = detail;
        Findings = findings ?? [];
        TufReason = (innerException as AirlockRejectedException)?.Reason;
        BundleReason = (innerException as BundleRejectedException)?.Reason;
    }

    /// <summary>The stage or check that refused the bundle.</summary>
    public ImportRejection Reason { get; }

    /// <summary>The TUF check or attack, when <see cref="Reason"/> is <see cref="ImportRejection.Tuf"/>.</summary>
    public AirlockRejection? TufReason { get; }

    /// <summary>The archive check, when <see cref="Reason"/> is <see cref="ImportRejection.Bundle"/>.</summary>
    public BundleRejection? BundleReason { get; }

    /// <summary>What was wrong and where, for a person (e.g. "rollback: snapshot version 3 &lt; trusted 5").</summary>
    public string Detail { get; }

    /// <summary>Every scanner finding, when <see cref="Reason"/> is <see cref="ImportRejection.ContentScan"/>.</summary>
    public IReadOnlyList<string> Findings { get; }

    /// <summary>
    /// The machine-readable code recorded in the ledger: the attack or check in kebab case, e.g. <c>rollback</c>,
    /// <c>freeze</c>, <c>mix-and-match</c>, <c>hash-mismatch</c>, <c>path-traversal</c>, <c>content-scan</c>.
    /// </summary>
    public string Code => Describe(Reason, InnerException);

    private static string Describe(ImportRejection reason, Exception? inner) => inner switch
    {
        AirlockRejectedException tuf when reason == ImportRejection.Tuf => Kebab(tuf.Reason.ToString()),
        BundleRejectedException bundle when reason == ImportRejection.Bundle => Kebab(bundle.Reason.ToString()),
        _ => Kebab(reason.ToString()),
    };

    internal static string Kebab(string pascal)
    {
        var builder = new System.Text.StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(c));
        }

        return builder.ToString();
    }
}
