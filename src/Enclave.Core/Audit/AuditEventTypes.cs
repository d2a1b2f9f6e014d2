using System.Collections.Frozen;

namespace Enclave.Core.Audit;

/// <summary>
/// The audit vocabulary: every event type the enclave writes, declared once with the fields of its details. This is
/// a public contract (auditors, the console and detection rules read it); <c>docs/audit-events.md</c> says when each
/// type is written, who its actor is and what every field means, and a test fails when the two disagree or when code
/// writes an event type that is not declared here. Field names are as they were first written (the request events
/// in camelCase, the airlock's in snake_case), so that existing ledgers read and verify unchanged.
/// </summary>
public static class AuditEventTypes
{
    // Requests (/v1)
    public static readonly AuditEventType RequestAdmitted = new("request.admitted", "requestId", "endpoint", "model", "backend", "stream", "promptSha256", "policy", "clientAddress", "user", "intel", "retrieval", "via");
    public static readonly AuditEventType RequestDenied = new("request.denied", "requestId", "endpoint", "model", "promptSha256", "status", "rule", "policy", "clientAddress", "user", "intel", "via");
    public static readonly AuditEventType RequestCompleted = new(
        "request.completed", "requestId", "endpoint", "admittedIndex", "outcome", "status", "backend", "latencyMs", "modelDigest",
        "promptTokens", "completionTokens", "answerSha256", "error", "vendor", "region", "modelVersion", "via");

    // Stored responses (/v1/responses)
    public static readonly AuditEventType ResponseStored = new("response.stored", "responseId", "requestId", "admittedIndex", "model", "label", "previousResponseId");
    public static readonly AuditEventType ResponseRead = new("response.read", "responseId", "owner");
    public static readonly AuditEventType ResponseDeleted = new("response.deleted", "responseId", "owner", "requestId");
    public static readonly AuditEventType ResponseCancelled = new("response.cancelled", "responseId", "owner", "requestId", "status");
    public static readonly AuditEventType ResponsesPurged = new("responses.purged", "count", "createdBefore", "retentionDays");

    // Authentication
    public static readonly AuditEventType AuthFailed = new(
        "auth.failed", "scheme", "reason", "method", "remoteAddress", "keyId", "kid", "alg", "iss", "exception");

    // Identities and keys
    public static readonly AuditEventType UserAdded = new("user.added", "name", "kind", "roles", "clearance", "purpose");
    public static readonly AuditEventType UserDisabled = new("user.disabled", "name", "activeKeys");
    public static readonly AuditEventType UserUpdated = new("user.updated", "name", "roles", "clearance", "previousRoles", "previousClearance");
    public static readonly AuditEventType KeyCreated = new("key.created", "principal", "name", "expires", "via");
    public static readonly AuditEventType KeyRevoked = new("key.revoked", "principal", "name", "via");

    // Content retention
    public static readonly AuditEventType RetentionRead = new("retention.read", "requestId");

    // The airlock
    public static readonly AuditEventType ImportTrustPinned = new("import.trust-pinned", "root_sha256", "root_version", "forced", "replaced_sha256");
    public static readonly AuditEventType ImportTrustPinFailed = new("import.trust-pin-failed", "root_sha256", "error");
    public static readonly AuditEventType ImportReceived = new("import.received", "source", "via");
    public static readonly AuditEventType ImportVerified = new(
        "import.verified", "kind", "name", "version", "label", "task", "manifest_sha256", "target_count", "targets", "signer_key_ids",
        "sbom_sha256", "provenance_sha256", "archive_bytes", "tuf_versions", "required_approvals", "via");
    public static readonly AuditEventType ImportRejected = new(
        "import.rejected", "stage", "reason", "detail", "findings", "kind", "name", "version", "manifest_sha256", "via");
    public static readonly AuditEventType ImportApprovalRefused = new("import.approval-refused", "reason", "via");
    public static readonly AuditEventType ImportApproved = new("import.approved", "manifest_sha256", "approvals", "required_approvals", "via");
    public static readonly AuditEventType ImportApprovalFailed = new("import.approval-failed", "error");
    public static readonly AuditEventType ImportActivated = new(
        "import.activated", "kind", "name", "version", "label", "task", "manifest_sha256", "approvers", "folder", "via");
    public static readonly AuditEventType ImportActivationFailed = new("import.activation-failed", "error", "detail");
    public static readonly AuditEventType ImportHookFailed = new("import.hook-failed", "hook", "kind", "error");

    // Vulnerability data (activated intel bundles)
    public static readonly AuditEventType VulnsLoaded = new(
        "vulns.loaded", "importId", "name", "version", "osv", "kev", "vex", "problems", "problemSamples", "newestModified");
    public static readonly AuditEventType VulnsRejected = new("vulns.rejected", "importId", "name", "version", "reason", "error");
    public static readonly AuditEventType VulnsSbomAdded = new("vulns.sbom-added", "inventoryId", "format", "specVersion", "components", "sha256");
    public static readonly AuditEventType VexDecided = new("vex.decided", "artifact", "component", "advisory", "status", "justification", "statement", "via");
    public static readonly AuditEventType VulnsApprovalBlocked = new("vulns.approval-blocked", "importId", "kev", "findings", "via");

    // Upgrades (activated update bundles installed as Enclave releases)
    public static readonly AuditEventType UpgradeStaged = new("upgrade.staged", "version", "importId", "name", "files", "bytes", "running", "data", "resolves", "introduces");
    public static readonly AuditEventType UpgradeApplied = new("upgrade.applied", "from", "to", "importId", "installRoot", "resolves");
    public static readonly AuditEventType UpgradeRolledBack = new("upgrade.rolled_back", "from", "to", "importId", "installRoot");
    public static readonly AuditEventType UpgradeFailed = new("upgrade.failed", "step", "version", "reason", "error", "current");

    // Ledger exports (enclave ledger export)
    public static readonly AuditEventType LedgerExported = new("ledger.exported", "from", "to", "entries", "output", "filesWritten", "via");

    // Detections (Sigma rules from activated intel bundles)
    public static readonly AuditEventType DetectionsLoaded = new(
        "detections.loaded", "importId", "name", "version", "files", "rules", "correlations", "filters", "skipped", "skippedSamples");
    // Threat intelligence applied in the live enclave
    public static readonly AuditEventType IntelLoaded = new(
        "intel.loaded", "importId", "name", "version", "sources", "indicators", "live", "notEvaluable", "skipped", "added", "replaced", "keptNewer", "notEvaluableSamples");
    public static readonly AuditEventType IntelRejected = new("intel.rejected", "importId", "name", "version", "reason", "error");
    public static readonly AuditEventType IntelHunted = new("intel.hunted", "trigger", "from", "to", "entries", "hits", "alerts");

    // Alerts
    public static readonly AuditEventType AlertRaised = new("alert.raised", "alertId", "kind", "severity", "title", "subject", "evidence", "dedupKey");
    public static readonly AuditEventType AlertAcknowledged = new("alert.acknowledged", "alertId", "raisedIndex", "from", "note", "via");
    public static readonly AuditEventType AlertResolved = new("alert.resolved", "alertId", "raisedIndex", "from", "resolution", "reason", "via");

    // Retrieval: uploaded documents, vector stores, searches (/v1/files, /v1/vector_stores)
    public static readonly AuditEventType FileUploaded = new(
        "file.uploaded", "fileId", "filename", "purpose", "sha256", "bytes", "documentType", "pages", "label", "highestLabel", "chunks", "embeddingModel", "modelDigest", "importId");
    public static readonly AuditEventType FileDeleted = new("file.deleted", "fileId", "sha256");
    public static readonly AuditEventType VectorStoreCreated = new("vector_store.created", "vectorStoreId", "name", "files");
    public static readonly AuditEventType VectorStoreFilesAdded = new("vector_store.files-added", "vectorStoreId", "files");
    public static readonly AuditEventType VectorStoreDeleted = new("vector_store.deleted", "vectorStoreId");
    public static readonly AuditEventType RetrievalSearched = new("retrieval.searched", "vectorStoreId", "querySha256", "clearance", "embeddingModel", "results");

    // The server and its state
    public static readonly AuditEventType ServerStarted = new("server.started", "urls", "models", "upstreamBackends", "retention");
    public static readonly AuditEventType StateMigrated = new("state.migrated", "database", "from_version", "to_version");

    private static readonly FrozenDictionary<string, AuditEventType> ByName = typeof(AuditEventTypes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(AuditEventType))
        .Select(f => (AuditEventType)f.GetValue(null)!)
        .ToFrozenDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Every declared type.</summary>
    public static IReadOnlyCollection<AuditEventType> All => ByName.Values;

    /// <summary>The declared type named <paramref name="name"/>, or null.</summary>
    public static AuditEventType? Find(string name) => ByName.GetValueOrDefault(name);
}
