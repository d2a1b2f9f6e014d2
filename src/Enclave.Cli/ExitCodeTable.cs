using System.Collections.Frozen;
using Enclave.Airlock.Bundles;
using Enclave.Airlock.Import;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Cli.Admin;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Core.Storage;
using Enclave.Inference.Onnx;
using Enclave.Inference.Packaged;
using Enclave.Inference.Text;
using Enclave.Inference.Upstream;
using Enclave.Intel.Alerts;
using Enclave.Intel.Sigma;
using Enclave.Intel.Stix;
using Enclave.Intel.Upgrades;
using Enclave.Intel.Vulnerabilities;
using Enclave.Ledger;
using Enclave.Policy.Configuration;
using Enclave.Policy.Labels;
using Enclave.Signing.Keys;
using Enclave.Signing.Notes;
using Enclave.State;

namespace Enclave.Cli;

/// <summary>A failure as a command reports it: its exit code, its message, and its family's reason where it has one.</summary>
/// <param name="Code">The exit code.</param>
/// <param name="Message">What went wrong, for the person at the terminal.</param>
/// <param name="Reason">The reason enum's value (e.g. <c>KeyDecryptionFailed</c>), for scripts; null for other exceptions.</param>
public sealed record CliFailure(ExitCode Code, string Message, string? Reason);

/// <summary>
/// The one place where the CLI turns an expected failure into an exit code: each component's exception family (an
/// <see cref="IEnclaveError"/> with its reason enum) by reason, the admin API's answers by HTTP status, and the few
/// platform exceptions (missing file, storage, bad argument) by type. Anything else is a bug and propagates.
/// </summary>
public static class ExitCodeTable
{
    /// <summary>The exit code of every reason of a family, unless <see cref="ByReason"/> names the reason.</summary>
    private static readonly FrozenDictionary<Type, ExitCode> ByFamily = new Dictionary<Type, ExitCode>
    {
        // Enclave.Signing
        [typeof(NoteRejection)] = ExitCode.VerificationFailed,
        [typeof(SigningFailure)] = ExitCode.InvalidInput,

        // Enclave.State: a database newer than this binary, or a migration that failed (rolled back).
        [typeof(StateFailure)] = ExitCode.StorageFailed,

        // Enclave.Ledger
        [typeof(LedgerFailure)] = ExitCode.VerificationFailed,
        [typeof(LedgerError)] = ExitCode.InvalidInput,

        // Enclave.Airlock: the TUF workflow and an import refused are verification failures (as `airlock import` reports
        // a rejection); a bundle on local media that cannot even be sent is invalid input.
        [typeof(AirlockRejection)] = ExitCode.VerificationFailed,
        [typeof(ImportRejection)] = ExitCode.VerificationFailed,
        [typeof(BundleRejection)] = ExitCode.InvalidInput,
        [typeof(ImportWorkflowError)] = ExitCode.InvalidInput,
        [typeof(TrustRepositoryError)] = ExitCode.InvalidInput,

        // Enclave.Policy
        [typeof(PolicyConfigurationError)] = ExitCode.InvalidInput,
        [typeof(MarkingError)] = ExitCode.InvalidInput,

        // Enclave.Retrieval (an uploaded document refused) and the server's retrieval API (label, embedding model)
        [typeof(Enclave.Retrieval.Extraction.DocumentRejection)] = ExitCode.InvalidInput,
        [typeof(Enclave.Server.Retrieval.RetrievalError)] = ExitCode.InvalidInput,

        // The server's lineage: no such request, or an index that is not a request's entry (the admin API's 404 and 400)
        [typeof(Enclave.Server.Lineage.LineageError)] = ExitCode.InvalidInput,

        // Enclave.Policy's identities: a principal or key change refused (the admin API's 400, 404 and 409; `enclave up`
        // meets them directly when it provisions its demo users).
        [typeof(Enclave.Policy.Identity.IdentityError)] = ExitCode.InvalidInput,

        // Enclave.Inference: a model folder, tokenizer or chat template refused is invalid input; a packaged model
        // (the demo embedding model) whose package is damaged or not the pinned one fails verification.
        [typeof(UpstreamConfigurationError)] = ExitCode.InvalidInput,
        [typeof(ModelRejectionReason)] = ExitCode.InvalidInput,
        [typeof(TokenizerError)] = ExitCode.InvalidInput,
        [typeof(PackagedModelError)] = ExitCode.VerificationFailed,

        // Enclave.Intel
        [typeof(StixRejection)] = ExitCode.InvalidInput,
        [typeof(SigmaRejection)] = ExitCode.InvalidInput,
        [typeof(VulnerabilityDataRejection)] = ExitCode.InvalidInput,
        [typeof(AlertError)] = ExitCode.InvalidInput,

        // Enclave.Intel's upgrades: a release refused by its checks fails verification; a step asked at the wrong
        // time (nothing staged, already current) is invalid input.
        [typeof(UpgradeFailure)] = ExitCode.VerificationFailed,
    }.ToFrozenDictionary();

    /// <summary>The reasons whose exit code differs from their family's.</summary>
    private static readonly FrozenDictionary<Enum, ExitCode> ByReason = new Dictionary<Enum, ExitCode>
    {
        [SigningFailure.KeyMissing] = ExitCode.NotFound,
        [SigningFailure.KeyDecryptionFailed] = ExitCode.Denied,
        [SigningFailure.KeyNotAuthorised] = ExitCode.Denied,
        [SigningFailure.KeyFileInvalid] = ExitCode.VerificationFailed,
        [LedgerError.NotFound] = ExitCode.NotFound,
        [ImportWorkflowError.NotFound] = ExitCode.NotFound,
        [ImportWorkflowError.SelfApproval] = ExitCode.Denied,
        [ImportWorkflowError.QuarantineLost] = ExitCode.Failure,
        [TrustRepositoryError.BelowThreshold] = ExitCode.Denied,
        [TrustRepositoryError.BundleInvalid] = ExitCode.VerificationFailed,
        [TrustRepositoryError.SourceChanged] = ExitCode.Failure,
        [AlertError.NotFound] = ExitCode.NotFound,
        [Enclave.Policy.Identity.IdentityError.NotFound] = ExitCode.NotFound,
        [ModelRejectionReason.MissingFile] = ExitCode.NotFound,
        [PackagedModelError.PackageMissing] = ExitCode.NotFound,
        [UpgradeFailure.NotFound] = ExitCode.NotFound,
        [UpgradeFailure.InvalidVersion] = ExitCode.InvalidInput,
        [UpgradeFailure.DiskError] = ExitCode.StorageFailed,
        [UpgradeFailure.NothingStaged] = ExitCode.InvalidInput,
        [UpgradeFailure.NotStaged] = ExitCode.InvalidInput,
        [UpgradeFailure.NoPrevious] = ExitCode.InvalidInput,
        [UpgradeFailure.AlreadyCurrent] = ExitCode.InvalidInput,
    }.ToFrozenDictionary();

    /// <summary>The reason enums the table maps, one per family member (for tests and documentation).</summary>
    public static IReadOnlyCollection<Type> Families => ByFamily.Keys;

    /// <summary>
    /// The exit code of a reason: the reason's own entry, else its family's, else <see cref="ExitCode.Failure"/> (a
    /// family missing from the table; a test fails on that).
    /// </summary>
    public static ExitCode ForReason(Enum reason)
    {
        ArgumentNullException.ThrowIfNull(reason);
        return ByReason.TryGetValue(reason, out var code) ? code
            : ByFamily.TryGetValue(reason.GetType(), out code) ? code
            : ExitCode.Failure;
    }

    /// <summary>The exit code of the family whose reason enum is <typeparamref name="TReason"/>, whatever the reason.</summary>
    /// <typeparam name="TReason">The family's reason enum.</typeparam>
    public static ExitCode ForFamily<TReason>()
        where TReason : struct, Enum => ByFamily.TryGetValue(typeof(TReason), out var code) ? code : ExitCode.Failure;

    /// <summary>The exit code of an admin API answer with HTTP status <paramref name="status"/> (0: no answer).</summary>
    public static ExitCode ForStatus(int status) => status switch
    {
        0 => ExitCode.Unavailable,
        401 or 403 => ExitCode.Denied,
        404 => ExitCode.NotFound,
        400 or 409 or 413 or 422 => ExitCode.InvalidInput,
        502 or 503 or 504 => ExitCode.Unavailable,
        _ => ExitCode.Failure,
    };

    /// <summary>How a command reports <paramref name="exception"/>, or null when it is not an expected failure.</summary>
    public static CliFailure? Map(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            AdminApiException e => new(ForStatus(e.Status), e.Message, null),
            LedgerVerificationException e => new(ForReason(e.Failure), $"verification failed ({e.Failure}): {e.Message}", e.Failure.ToString()),
            IEnclaveError e => new(ForReason(e.Reason), exception.Message, e.Reason.ToString()),
            DataDirectoryLockedException => new(ExitCode.Locked, exception.Message, null),
            EnclaveFormatException or ArgumentException => new(ExitCode.InvalidInput, exception.Message, null),
            FileNotFoundException or DirectoryNotFoundException => new(ExitCode.NotFound, exception.Message, null),
            LedgerWriteException => new(ExitCode.StorageFailed, exception.Message, null),
            // SQLite or PostgreSQL (both DbException), or the file system.
            System.Data.Common.DbException or IOException or UnauthorizedAccessException => new(ExitCode.StorageFailed, $"storage error: {exception.Message}", null),
            _ => null,
        };
    }
}
