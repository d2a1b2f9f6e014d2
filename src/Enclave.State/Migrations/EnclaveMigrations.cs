namespace Enclave.State.Migrations;

/// <summary>
/// The schema of <c>enclave.db</c>, step by step. Migration 1 is the schema the releases before versioned migrations
/// created table by table (each component with its own <c>CREATE TABLE IF NOT EXISTS</c>): on a fresh directory it
/// creates exactly that schema; on a directory made by such a release (tables, no version) it creates whatever is
/// missing and adopts the rest. Add a step by appending a <see cref="Migration"/> with the next version; never edit a
/// released one.
/// </summary>
internal static class EnclaveMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial schema: ledger, airlock, principals and keys, local models, quotas", Initial),
        new(2, "alerts: raised by intel, detections, insider analytics and vulnerabilities, with their lifecycle", Alerts),
        new(3, "vulnerability data from activated intel bundles: OSV records, KEV entries, VEX documents", Vulnerabilities),
        new(4, "threat-intelligence indicators from activated intel bundles (STIX 2.1, MISP) and the loads they came from", Indicators),
        new(5, "vulnerability inventory (SBOMs), findings, unknown matches and VEX decisions made in the enclave", VulnerabilityFindings),
        new(6, "detections: the append feed's cursor per consumer, and the Sigma rule sets live from intel imports", Detections),
        // Version 7 was set aside for the upgrade work, which needed no table; released as a step that changes nothing,
        // so the versions stay contiguous.
        new(7, "reserved (no change)", _ => { }),
        new(8, "usage rollup: requests, denials, tokens and latency per minute, hour and day, principal, model and backend, with its ledger cursor", Usage),
        new(9, "retrieval: uploaded files, their labelled chunks with embeddings, vector stores and the files in them", Retrieval),
        new(10, "stored Responses API responses: owner, label, chain and conversation, so that any replica answers", Responses),
        new(11, "usage rollup: a latency histogram (fixed log-spaced buckets) per row, and the rollup counted again from the ledger to fill it", UsageLatencyHistogram),
        new(12, "stored responses: status (background responses queued, in progress, cancelled) and input items, by creation time for the retention purge", ResponsesBackground),
        new(13, "airlock imports: every TUF role that verified an import, with its version, threshold and the keys whose signatures verified", AirlockRoleSigners),
    ];

    private static void AirlockRoleSigners(MigrationContext context)
    {
        // A JSON array of {role, version, threshold, key_ids}, written with the import. Imports recorded before have
        // NULL: their per-role signers were never recorded and are shown as not recorded, never filled in afterwards.
        context.Execute("ALTER TABLE airlock_imports ADD COLUMN role_signers TEXT;");
    }

    private static void ResponsesBackground(MigrationContext context)
    {
        // The status is a column so that cancelling and finishing a background response are one conditional update each
        // (whichever replica comes first wins); the input items are the request's, in the Responses form with ids
        // (GET /v1/responses/{id}/input_items). Rows stored before have no input items kept: they list none.
        context.Execute("""
            ALTER TABLE responses ADD COLUMN status TEXT NOT NULL DEFAULT 'completed';
            ALTER TABLE responses ADD COLUMN input_items TEXT NOT NULL DEFAULT '[]';
            CREATE INDEX responses_by_created ON responses (created);
            """);
    }

    private static void UsageLatencyHistogram(MigrationContext context)
    {
        // One count per latency bucket (Usage/LatencyHistogram.cs: the same buckets in every row, so rows add up). The
        // sums counted so far have no histogram: they are deleted with the cursor, and the rollup counts the ledger
        // again from its first entry (in the background, as on a first start), this time with the histogram.
        var columns = string.Concat(Enumerable.Range(0, State.Usage.LatencyHistogram.Count).Select(i =>
            $"ALTER TABLE usage_buckets ADD COLUMN {State.Usage.LatencyHistogram.Column(i)} INTEGER NOT NULL DEFAULT 0;\n"));
        context.Execute(columns + """
            DELETE FROM usage_buckets;
            DELETE FROM usage_cursor;
            """);
    }

    private static void Responses(MigrationContext context)
    {
        // One row per stored response: the principal that created it (the only one, with admins per the policy, who may
        // read or delete it), the label it was admitted under, the ledger index of its admission, the response it
        // continued, the conversation as chat messages and the response object as returned (both JSON text).
        context.Execute("""
            CREATE TABLE responses (
                id TEXT PRIMARY KEY, owner TEXT NOT NULL, label TEXT NOT NULL, model TEXT NOT NULL, created TEXT NOT NULL,
                previous_id TEXT, request_id TEXT NOT NULL, admitted_index INTEGER NOT NULL,
                conversation TEXT NOT NULL, response TEXT NOT NULL) WITHOUT ROWID;
            CREATE INDEX responses_by_owner ON responses (owner, created);
            """);
    }

    private static void Retrieval(MigrationContext context)
    {
        // A file's bytes live in the blob store under sha256; its row keeps the label it was uploaded with. Each chunk keeps
        // its own label (the file's raised by markings inside it), its text and its embedding (little-endian float32) by
        // the model named. A vector store is a set of files; removing a file removes it from every store.
        context.Execute("""
            CREATE TABLE retrieval_files (
                id TEXT PRIMARY KEY, filename TEXT NOT NULL, purpose TEXT NOT NULL, bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
                doc_type TEXT NOT NULL, pages INTEGER NOT NULL, label TEXT NOT NULL, owner TEXT NOT NULL, created TEXT NOT NULL,
                chunks INTEGER NOT NULL, ledger_index INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE retrieval_chunks (
                file_id TEXT NOT NULL, chunk_index INTEGER NOT NULL, start_char INTEGER NOT NULL, label TEXT NOT NULL,
                text TEXT NOT NULL, model TEXT NOT NULL, embedding BLOB NOT NULL,
                PRIMARY KEY (file_id, chunk_index)) WITHOUT ROWID;
            CREATE TABLE retrieval_vector_stores (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL, created TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE retrieval_vector_store_files (
                store_id TEXT NOT NULL, file_id TEXT NOT NULL, added TEXT NOT NULL,
                PRIMARY KEY (store_id, file_id)) WITHOUT ROWID;
            CREATE INDEX retrieval_vector_store_files_by_file ON retrieval_vector_store_files (file_id);
            """);
    }

    private static void Usage(MigrationContext context)
    {
        // Sums per bucket (start: Unix seconds, UTC) and per principal, model and backend (empty for a refusal), kept
        // from the ledger's append feed; the cursor (one row) is the next ledger index to read, moved in the same
        // transaction as the sums it covers.
        context.Execute("""
            CREATE TABLE usage_buckets (
                span TEXT NOT NULL CHECK (span IN ('minute', 'hour', 'day')), start INTEGER NOT NULL, principal TEXT NOT NULL,
                model TEXT NOT NULL, backend TEXT NOT NULL, requests INTEGER NOT NULL, denials INTEGER NOT NULL,
                errors INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
                latency_ms_sum REAL NOT NULL, latency_ms_max REAL NOT NULL,
                PRIMARY KEY (span, start, principal, model, backend)) WITHOUT ROWID;
            CREATE TABLE usage_cursor (
                id INTEGER PRIMARY KEY CHECK (id = 1), next_index INTEGER NOT NULL CHECK (next_index >= 0), updated TEXT NOT NULL);
            """);
    }

    private static void Indicators(MigrationContext context)
    {
        // Each indicator once, the newest 'modified' in force (ISO 8601 UTC text sorts as time); status says whether
        // Enclave can evaluate it (reason when not); and the bundles loaded, with the ledger size when they arrived.
        context.Execute("""
            CREATE TABLE intel_sources (
                import_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, loaded TEXT NOT NULL,
                arrived_index INTEGER NOT NULL, indicators INTEGER NOT NULL, not_evaluable INTEGER NOT NULL,
                skipped INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE intel_indicators (
                id TEXT PRIMARY KEY, modified TEXT NOT NULL, import_id TEXT NOT NULL, source TEXT NOT NULL, name TEXT,
                pattern TEXT NOT NULL, pattern_type TEXT NOT NULL, valid_from TEXT NOT NULL, valid_until TEXT,
                revoked INTEGER NOT NULL, confidence INTEGER, created TEXT NOT NULL, status TEXT NOT NULL, reason TEXT) WITHOUT ROWID;
            CREATE INDEX intel_indicators_by_import ON intel_indicators (import_id);
            """);
    }

    private static void Detections(MigrationContext context)
    {
        // The next ledger index each consumer of the append feed will process (it resumes there after a restart); the
        // Sigma rule sets live, one per artifact name (a newer activation of the name replaces it), with their files.
        context.Execute("""
            CREATE TABLE detection_cursors (
                consumer TEXT PRIMARY KEY, next_index INTEGER NOT NULL CHECK (next_index >= 0), updated TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE detection_rule_sets (
                name TEXT PRIMARY KEY, import_id TEXT NOT NULL UNIQUE, version TEXT NOT NULL, loaded TEXT NOT NULL,
                rules INTEGER NOT NULL, skipped INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE detection_rule_files (
                import_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, content BLOB NOT NULL,
                PRIMARY KEY (import_id, path)) WITHOUT ROWID;
            """);
    }

    private static void VulnerabilityFindings(MigrationContext context)
    {
        // The inventory: one SBOM per activated artifact, registered system or Enclave release, as received. Findings per
        // (inventory entry, component, advisory), keeping when each was first seen; what could not be decided (unknown),
        // replaced with each evaluation; and the VEX decisions admins made (each a vex.decided ledger entry, by index).
        context.Execute("""
            CREATE TABLE vuln_inventory (
                id TEXT PRIMARY KEY, source TEXT NOT NULL CHECK (source IN ('artifact', 'registered', 'enclave')),
                name TEXT NOT NULL, version TEXT, import_id TEXT, sha256 TEXT NOT NULL, document BLOB NOT NULL,
                added TEXT NOT NULL, added_by TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE vuln_findings (
                inventory_id TEXT NOT NULL, component TEXT NOT NULL, advisory_id TEXT NOT NULL, purl TEXT,
                version TEXT NOT NULL, aliases TEXT NOT NULL, score REAL, rating TEXT, vector TEXT, kev_cve TEXT, kev_due TEXT,
                fixed TEXT NOT NULL, status TEXT NOT NULL, justification TEXT, first_seen TEXT NOT NULL, evaluated TEXT NOT NULL,
                PRIMARY KEY (inventory_id, component, advisory_id)) WITHOUT ROWID;
            CREATE INDEX vuln_findings_by_status ON vuln_findings (status, rating);
            CREATE TABLE vuln_unknown (
                inventory_id TEXT NOT NULL, component TEXT NOT NULL, advisory_id TEXT NOT NULL, reason TEXT NOT NULL,
                PRIMARY KEY (inventory_id, component, advisory_id, reason)) WITHOUT ROWID;
            CREATE TABLE vuln_vex_decisions (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, inventory_id TEXT, product TEXT NOT NULL, advisory_id TEXT NOT NULL,
                status TEXT NOT NULL, justification TEXT, statement TEXT, actor TEXT NOT NULL, decided TEXT NOT NULL,
                ledger_index INTEGER NOT NULL);
            """);
    }

    private static void Vulnerabilities(MigrationContext context)
    {
        // Each OSV record once, the newest 'modified' in force (ISO 8601 UTC text sorts as time); KEV entries by CVE;
        // VEX documents as received (parsed when findings are computed); and the bundles loaded, with what they held.
        context.Execute("""
            CREATE TABLE vuln_feeds (
                import_id TEXT PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, loaded TEXT NOT NULL,
                osv_records INTEGER NOT NULL, kev_entries INTEGER NOT NULL, vex_documents INTEGER NOT NULL,
                problems TEXT NOT NULL, newest_modified TEXT) WITHOUT ROWID;
            CREATE TABLE vuln_osv (
                id TEXT PRIMARY KEY, modified TEXT NOT NULL, import_id TEXT NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE vuln_kev (
                cve TEXT PRIMARY KEY, date_added TEXT NOT NULL, due_date TEXT NOT NULL, vendor TEXT, product TEXT,
                ransomware TEXT, catalog_version TEXT NOT NULL, import_id TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE vuln_vex (
                import_id TEXT NOT NULL, path TEXT NOT NULL, document BLOB NOT NULL,
                PRIMARY KEY (import_id, path)) WITHOUT ROWID;
            """);
    }

    private static void Alerts(MigrationContext context)
    {
        // One row per alert; the ledger holds its history (alert.raised, alert.acknowledged, alert.resolved) and the
        // row links to it by index. dedup_key lets a source raise "the same" alert once (e.g. one finding).
        context.Execute("""
            CREATE TABLE alerts (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL, subject TEXT NOT NULL,
                evidence TEXT NOT NULL, dedup_key TEXT UNIQUE,
                state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved', 'false-positive')),
                raised TEXT NOT NULL, raised_by TEXT NOT NULL, raised_index INTEGER NOT NULL,
                updated TEXT, updated_by TEXT, updated_index INTEGER, reason TEXT) WITHOUT ROWID;
            CREATE INDEX alerts_by_state ON alerts (state, raised);
            CREATE INDEX alerts_by_kind ON alerts (kind, raised);
            """);
    }

    private static void Initial(MigrationContext context)
    {
        // Ledger: entries by index, Merkle tiles by (level, index), the latest signed checkpoint, and meta
        // (origin, tree size, ledger format version).
        context.Execute("""
            CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS ledger_tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,
                PRIMARY KEY (level, idx)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS ledger_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, note TEXT NOT NULL);
            """);

        // Airlock: TUF trusted state and pins, imports with their targets and approvals, activated artifacts,
        // promotions in flight.
        context.Execute("""
            CREATE TABLE IF NOT EXISTS airlock_trust (
                file TEXT PRIMARY KEY, role TEXT NOT NULL, version INTEGER NOT NULL, bytes BLOB NOT NULL,
                committed TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS airlock_trust_pins (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, root_sha256 TEXT NOT NULL, root_version INTEGER NOT NULL,
                actor TEXT NOT NULL, forced INTEGER NOT NULL, pinned TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS airlock_imports (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, label TEXT NOT NULL,
                task TEXT, state TEXT NOT NULL CHECK (state IN ('verified', 'rejected', 'activated')),
                importer TEXT NOT NULL, signer_key_ids TEXT NOT NULL, sbom_sha256 TEXT, provenance_sha256 TEXT,
                manifest_sha256 TEXT NOT NULL, archive_bytes INTEGER NOT NULL, tuf_versions TEXT NOT NULL,
                quarantine TEXT, reasons TEXT NOT NULL, received TEXT NOT NULL, verified TEXT NOT NULL,
                decided TEXT, decided_by TEXT) WITHOUT ROWID;
            CREATE UNIQUE INDEX IF NOT EXISTS airlock_imports_live ON airlock_imports (kind, name, version)
                WHERE state <> 'rejected';
            CREATE TABLE IF NOT EXISTS airlock_import_targets (
                import_id TEXT NOT NULL REFERENCES airlock_imports (id), path TEXT NOT NULL, type TEXT NOT NULL,
                sha256 TEXT NOT NULL, length INTEGER NOT NULL, quarantined TEXT NOT NULL,
                PRIMARY KEY (import_id, path)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS airlock_approvals (
                import_id TEXT NOT NULL REFERENCES airlock_imports (id), approver TEXT NOT NULL, approved TEXT NOT NULL,
                PRIMARY KEY (import_id, approver)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS airlock_artifacts (
                kind TEXT NOT NULL, name TEXT NOT NULL, version TEXT NOT NULL, label TEXT NOT NULL, task TEXT,
                import_id TEXT NOT NULL UNIQUE REFERENCES airlock_imports (id), folder TEXT NOT NULL,
                manifest_sha256 TEXT NOT NULL, activated TEXT NOT NULL, PRIMARY KEY (kind, name, version)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS airlock_promotions (
                import_id TEXT PRIMARY KEY, folder TEXT NOT NULL, staging TEXT NOT NULL, created_blobs TEXT NOT NULL,
                started TEXT NOT NULL) WITHOUT ROWID;
            """);

        // Principals and API keys. Keys predate principals: the column that links them was added later, and the
        // releases before versioning added it with ALTER TABLE; doing the same keeps the stored schema identical.
        context.Execute("""
            CREATE TABLE IF NOT EXISTS principals (
                id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, roles TEXT NOT NULL, clearance TEXT,
                created TEXT NOT NULL, disabled TEXT) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS api_keys (
                id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
                created TEXT NOT NULL, expires TEXT, revoked TEXT) WITHOUT ROWID;
            """);
        if (!context.ColumnExists("api_keys", "principal"))
        {
            context.Execute("ALTER TABLE api_keys ADD COLUMN principal TEXT; CREATE INDEX IF NOT EXISTS api_keys_principal ON api_keys (principal);");
        }

        // Local models registered with 'enclave models add'.
        context.Execute("""
            CREATE TABLE IF NOT EXISTS local_models (
                id TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('chat', 'embedding')),
                path TEXT NOT NULL, digest TEXT NOT NULL, source TEXT NOT NULL, added TEXT NOT NULL, label TEXT) WITHOUT ROWID;
            """);
        if (!context.ColumnExists("local_models", "label"))
        {
            // Databases from before labels: the column is added empty (lowest level).
            context.Execute("ALTER TABLE local_models ADD COLUMN label TEXT");
        }

        // Quota usage counters per principal and period.
        context.Execute("""
            CREATE TABLE IF NOT EXISTS quota_usage (
                principal TEXT NOT NULL, period TEXT NOT NULL,
                requests INTEGER NOT NULL CHECK (requests >= 0), tokens INTEGER NOT NULL CHECK (tokens >= 0),
                PRIMARY KEY (principal, period)) WITHOUT ROWID;
            """);
    }
}
