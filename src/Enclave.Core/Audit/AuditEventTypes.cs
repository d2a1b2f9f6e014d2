using System.Collections.Frozen;

namespace Enclave.Core.Audit;

/// <summary>
/// The audit vocabulary: every event type the enclave writes, declared once with the record of its details (in
/// <c>Audit/Details/</c>, one record per type; the record's properties are the fields). This is a public contract
/// (auditors, the console and detection rules read it); <c>docs/audit-events.md</c> says when each type is written, who
/// its actor is and what every field means, and a test fails when the two disagree or when code writes an event type
/// that is not declared here. Field names are as they were first written (the request events in camelCase, the
/// airlock's in snake_case), so that existing ledgers read and verify unchanged.
/// </summary>
public static class AuditEventTypes
{
    // Requests (/v1)
    public static readonly AuditEventType RequestAdmitted = AuditEventType.Of<RequestAdmittedDetails>("request.admitted");
    public static readonly AuditEventType RequestDenied = AuditEventType.Of<RequestDeniedDetails>("request.denied");
    public static readonly AuditEventType RequestCompleted = AuditEventType.Of<RequestCompletedDetails>("request.completed");

    // Stored responses (/v1/responses)
    public static readonly AuditEventType ResponseStored = AuditEventType.Of<ResponseStoredDetails>("response.stored");
    public static readonly AuditEventType ResponseRead = AuditEventType.Of<ResponseReadDetails>("response.read");
    public static readonly AuditEventType ResponseDeleted = AuditEventType.Of<ResponseDeletedDetails>("response.deleted");
    public static readonly AuditEventType ResponseCancelled = AuditEventType.Of<ResponseCancelledDetails>("response.cancelled");
    public static readonly AuditEventType ResponsesPurged = AuditEventType.Of<ResponsesPurgedDetails>("responses.purged");

    // Authentication
    public static readonly AuditEventType AuthFailed = AuditEventType.Of<AuthFailedDetails>("auth.failed");

    // Identities and keys
    public static readonly AuditEventType UserAdded = AuditEventType.Of<UserAddedDetails>("user.added");
    public static readonly AuditEventType UserDisabled = AuditEventType.Of<UserDisabledDetails>("user.disabled");
    public static readonly AuditEventType UserUpdated = AuditEventType.Of<UserUpdatedDetails>("user.updated");
    public static readonly AuditEventType KeyCreated = AuditEventType.Of<KeyCreatedDetails>("key.created");
    public static readonly AuditEventType KeyRevoked = AuditEventType.Of<KeyRevokedDetails>("key.revoked");

    // Content retention
    public static readonly AuditEventType RetentionRead = AuditEventType.Of<RetentionReadDetails>("retention.read");

    // The airlock
    public static readonly AuditEventType ImportTrustPinned = AuditEventType.Of<ImportTrustPinnedDetails>("import.trust-pinned");
    public static readonly AuditEventType ImportTrustPinFailed = AuditEventType.Of<ImportTrustPinFailedDetails>("import.trust-pin-failed");
    public static readonly AuditEventType ImportReceived = AuditEventType.Of<ImportReceivedDetails>("import.received");
    public static readonly AuditEventType ImportVerified = AuditEventType.Of<ImportVerifiedDetails>("import.verified");
    public static readonly AuditEventType ImportRejected = AuditEventType.Of<ImportRejectedDetails>("import.rejected");
    public static readonly AuditEventType ImportApprovalRefused = AuditEventType.Of<ImportApprovalRefusedDetails>("import.approval-refused");
    public static readonly AuditEventType ImportApproved = AuditEventType.Of<ImportApprovedDetails>("import.approved");
    public static readonly AuditEventType ImportApprovalFailed = AuditEventType.Of<ImportApprovalFailedDetails>("import.approval-failed");
    public static readonly AuditEventType ImportActivated = AuditEventType.Of<ImportActivatedDetails>("import.activated");
    public static readonly AuditEventType ImportActivationFailed = AuditEventType.Of<ImportActivationFailedDetails>("import.activation-failed");
    public static readonly AuditEventType ImportHookFailed = AuditEventType.Of<ImportHookFailedDetails>("import.hook-failed");

    // Vulnerability data (activated intel bundles)
    public static readonly AuditEventType VulnsLoaded = AuditEventType.Of<VulnsLoadedDetails>("vulns.loaded");
    public static readonly AuditEventType VulnsRejected = AuditEventType.Of<VulnsRejectedDetails>("vulns.rejected");
    public static readonly AuditEventType VulnsSbomAdded = AuditEventType.Of<VulnsSbomAddedDetails>("vulns.sbom-added");
    public static readonly AuditEventType VexDecided = AuditEventType.Of<VexDecidedDetails>("vex.decided");
    public static readonly AuditEventType VulnsApprovalBlocked = AuditEventType.Of<VulnsApprovalBlockedDetails>("vulns.approval-blocked");

    // Upgrades (activated update bundles installed as Enclave releases)
    public static readonly AuditEventType UpgradeStaged = AuditEventType.Of<UpgradeStagedDetails>("upgrade.staged");
    public static readonly AuditEventType UpgradeApplied = AuditEventType.Of<UpgradeAppliedDetails>("upgrade.applied");
    public static readonly AuditEventType UpgradeRolledBack = AuditEventType.Of<UpgradeRolledBackDetails>("upgrade.rolled_back");
    public static readonly AuditEventType UpgradeFailed = AuditEventType.Of<UpgradeFailedDetails>("upgrade.failed");

    // Ledger exports (enclave ledger export)
    public static readonly AuditEventType LedgerExported = AuditEventType.Of<LedgerExportedDetails>("ledger.exported");

    // Detections (Sigma rules from activated intel bundles)
    public static readonly AuditEventType DetectionsLoaded = AuditEventType.Of<DetectionsLoadedDetails>("detections.loaded");
    // Threat intelligence applied in the live enclave
    public static readonly AuditEventType IntelLoaded = AuditEventType.Of<IntelLoadedDetails>("intel.loaded");
    public static readonly AuditEventType IntelRejected = AuditEventType.Of<IntelRejectedDetails>("intel.rejected");
    public static readonly AuditEventType IntelHunted = AuditEventType.Of<IntelHuntedDetails>("intel.hunted");

    // Alerts
    public static readonly AuditEventType AlertRaised = AuditEventType.Of<AlertRaisedDetails>("alert.raised");
    public static readonly AuditEventType AlertAcknowledged = AuditEventType.Of<AlertAcknowledgedDetails>("alert.acknowledged");
    public static readonly AuditEventType AlertResolved = AuditEventType.Of<AlertResolvedDetails>("alert.resolved");

    // Retrieval: uploaded documents, vector stores, searches (/v1/files, /v1/vector_stores)
    public static readonly AuditEventType FileUploaded = AuditEventType.Of<FileUploadedDetails>("file.uploaded");
    public static readonly AuditEventType FileDeleted = AuditEventType.Of<FileDeletedDetails>("file.deleted");
    public static readonly AuditEventType VectorStoreCreated = AuditEventType.Of<VectorStoreCreatedDetails>("vector_store.created");
    public static readonly AuditEventType VectorStoreFilesAdded = AuditEventType.Of<VectorStoreFilesAddedDetails>("vector_store.files-added");
    public static readonly AuditEventType VectorStoreDeleted = AuditEventType.Of<VectorStoreDeletedDetails>("vector_store.deleted");
    public static readonly AuditEventType RetrievalSearched = AuditEventType.Of<RetrievalSearchedDetails>("retrieval.searched");

    // The server and its state
    public static readonly AuditEventType ServerStarted = AuditEventType.Of<ServerStartedDetails>("server.started");
    public static readonly AuditEventType StateMigrated = AuditEventType.Of<StateMigratedDetails>("state.migrated");

    private static readonly FrozenDictionary<string, AuditEventType> ByName = typeof(AuditEventTypes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(AuditEventType))
        .Select(f => (AuditEventType)f.GetValue(null)!)
        .ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    private static readonly FrozenDictionary<Type, AuditEventType> ByDetails = ByName.Values
        .ToFrozenDictionary(t => t.DetailsType!);

    /// <summary>Every declared type.</summary>
    public static IReadOnlyCollection<AuditEventType> All => ByName.Values;

    /// <summary>The declared type named <paramref name="name"/>, or null.</summary>
    public static AuditEventType? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The declared type whose details are <paramref name="detailsType"/> records, or null.</summary>
    public static AuditEventType? Find(Type detailsType) => ByDetails.GetValueOrDefault(detailsType);
}
