using System.Text;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;

namespace Enclave.Core.Tests.Audit;

/// <summary>
/// Every event type's details record writes the canonical bytes its call site wrote before, from an ad-hoc
/// <see cref="JsonObject"/> (kept here, as each site built it, as the reference): field names, omitted and written
/// nulls, number forms. Existing ledgers therefore verify and read unchanged. Every declared type has a case.
/// </summary>
public sealed class AuditDetailsRecordTests
{
    private static readonly DateTimeOffset Time = new(2026, 12, 7, 13, 45, 1, 234, TimeSpan.Zero);
    private const string Hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    private const string Hex2 = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

    public static TheoryData<string> Cases() => [.. AllCases().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Record_WritesTheBytesTheAdHocDetailsWrote(string name)
    {
        var c = AllCases().Single(x => x.Name == name);
        var before = AuditEvent.Create(c.Type, Time, "user:alice", "subject:1", c.Legacy).ToCanonicalJson();
        var after = AuditEvent.Create(Time, "user:alice", "subject:1", c.Record).ToCanonicalJson();
        Assert.Equal(Encoding.UTF8.GetString(before), Encoding.UTF8.GetString(after));
        Assert.Equal(c.Type.Name, AuditEvent.Parse(after).Type);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void HandWrittenRecords_WriteWhatTheirPropertiesSay(string name)
    {
        // The request path's records write their members by hand; the rest by their properties. Both give the same bytes.
        var c = AllCases().Single(x => x.Name == name);
        var byHand = AuditEvent.Create(Time, "system", "s", c.Record).ToCanonicalJson();
        var byProperties = AuditEvent.Create(c.Type, Time, "system", "s", c.Record, static (ref writer, r) => AuditDetailsShape.Of(r.GetType()).Write(r, ref writer)).ToCanonicalJson();
        Assert.Equal(Encoding.UTF8.GetString(byProperties), Encoding.UTF8.GetString(byHand));
    }

    [Fact]
    public void EveryDeclaredType_HasACase()
    {
        var covered = AllCases().Select(c => c.Type.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(AuditEventTypes.All.Select(t => t.Name).Where(n => !covered.Contains(n)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void CaseNames_AreUnique() =>
        Assert.Equal(AllCases().Count, AllCases().Select(c => c.Name).Distinct(StringComparer.Ordinal).Count());

    [Fact]
    public void GoldenBytes_OfOneEntry_AreCheckedIn()
    {
        // One entry spelled out, so that a change to the canonical form itself (not only to a record) is seen.
        var entry = AuditEvent.Create(Time, "system", "import:imp_1", new ImportVerifiedDetails
        {
            Kind = "model",
            Name = "m",
            Version = "1",
            Label = "UNCLASSIFIED",
            Task = null,
            ManifestSha256 = Hex,
            TargetCount = 1,
            Targets = [new ImportVerifiedTarget { Path = "model.onnx", Type = "model", Sha256 = Hex2, Length = 10 }],
            SignerKeyIds = ["k1"],
            SbomSha256 = null,
            ProvenanceSha256 = Hex2,
            ArchiveBytes = 1L << 40,
            TufVersions = new Dictionary<string, int> { ["targets"] = 3, ["root"] = 1 },
            RequiredApprovals = 2,
        });
        Assert.Equal(
            "{\"actor\":\"system\",\"details\":{\"archive_bytes\":1099511627776,\"kind\":\"model\",\"label\":\"UNCLASSIFIED\"," +
            $"\"manifest_sha256\":\"{Hex}\",\"name\":\"m\",\"provenance_sha256\":\"{Hex2}\",\"required_approvals\":2,\"sbom_sha256\":null," +
            $"\"signer_key_ids\":[\"k1\"],\"target_count\":1,\"targets\":[{{\"length\":10,\"path\":\"model.onnx\",\"sha256\":\"{Hex2}\",\"type\":\"model\"}}]," +
            "\"task\":null,\"tuf_versions\":{\"root\":1,\"targets\":3},\"version\":\"1\"},\"subject\":\"import:imp_1\"," +
            "\"time\":\"2026-12-07T13:45:01.234Z\",\"type\":\"import.verified\"}",
            Encoding.UTF8.GetString(entry.ToCanonicalJson()));
    }

    [Fact]
    public void ARecordOfNoDeclaredType_IsRefused() =>
        Assert.Throws<ArgumentException>(() => AuditEvent.Create(Time, "system", "s", new Undeclared { A = "x" }));

    [Fact]
    public void AnUnpairedSurrogate_IsRefusedAsBefore() =>
        Assert.Throws<EnclaveFormatException>(() => AuditEvent.Create(Time, "system", "s", new RetentionReadDetails { RequestId = "\ud800" }));

    private sealed record Undeclared : IAuditDetails
    {
        public required string A { get; init; }
    }

    private sealed record Case(string Name, AuditEventType Type, JsonObject Legacy, IAuditDetails Record);

    private static JsonArray Strings(params string[] items) => new([.. items.Select(i => (JsonNode?)i)]);

    private static List<Case> AllCases()
    {
        var policy = new JsonObject { ["rule"] = "label", ["labels"] = new JsonArray("SECRET", "NATO"), ["score"] = 0.25 };
        var intel = new JsonArray(new JsonObject { ["indicator"] = "indicator--1", ["matched"] = "10.0.0.1", ["action"] = "alert" });
        var evidence = new JsonObject { ["summary"] = "s", ["ledgerIndices"] = new JsonArray(1L, 5L), ["facts"] = new JsonObject { ["a"] = "b" } };
        return
        [
            // Requests
            new("request.admitted full", AuditEventTypes.RequestAdmitted,
                new JsonObject
                {
                    ["requestId"] = "req_1", ["endpoint"] = "/v1/chat/completions", ["model"] = "m", ["backend"] = "local", ["stream"] = true,
                    ["promptSha256"] = Hex, ["policy"] = policy.DeepClone(), ["clientAddress"] = "10.0.0.1", ["intel"] = intel.DeepClone(),
                    ["user"] = "u\u00e9", ["retrieval"] = new JsonArray(3L, 9L), ["via"] = "console",
                },
                new RequestAdmittedDetails
                {
                    RequestId = "req_1", Endpoint = "/v1/chat/completions", Model = "m", Backend = "local", Stream = true, PromptSha256 = Hex,
                    Policy = (JsonObject)policy.DeepClone(), ClientAddress = "10.0.0.1", Intel = (JsonArray)intel.DeepClone(), User = "u\u00e9", Retrieval = [3, 9], Via = "console",
                }),
            new("request.admitted minimal", AuditEventTypes.RequestAdmitted,
                new JsonObject { ["requestId"] = "r", ["endpoint"] = "/v1/embeddings", ["model"] = "m", ["backend"] = "b", ["stream"] = false, ["promptSha256"] = Hex },
                new RequestAdmittedDetails { RequestId = "r", Endpoint = "/v1/embeddings", Model = "m", Backend = "b", Stream = false, PromptSha256 = Hex }),
            new("request.denied", AuditEventTypes.RequestDenied,
                new JsonObject
                {
                    ["requestId"] = "r", ["endpoint"] = "/v1/completions", ["model"] = "m", ["promptSha256"] = Hex, ["status"] = 429, ["rule"] = "quota",
                    ["policy"] = policy.DeepClone(), ["clientAddress"] = "::1", ["user"] = "bob", ["intel"] = intel.DeepClone(), ["via"] = "console",
                },
                new RequestDeniedDetails
                {
                    RequestId = "r", Endpoint = "/v1/completions", Model = "m", PromptSha256 = Hex, Status = 429, Rule = "quota",
                    Policy = (JsonObject)policy.DeepClone(), ClientAddress = "::1", User = "bob", Intel = (JsonArray)intel.DeepClone(), Via = "console",
                }),
            new("request.completed full", AuditEventTypes.RequestCompleted,
                new JsonObject
                {
                    ["requestId"] = "r", ["endpoint"] = "/v1/chat/completions", ["admittedIndex"] = 41L, ["outcome"] = "ok", ["status"] = 200, ["backend"] = "up",
                    ["latencyMs"] = 12.346, ["modelDigest"] = Hex, ["promptTokens"] = 7, ["completionTokens"] = 11, ["answerSha256"] = Hex2, ["error"] = "e",
                    ["vendor"] = "openai", ["region"] = "eu", ["modelVersion"] = "gpt-x-2026", ["via"] = "console",
                },
                new RequestCompletedDetails
                {
                    RequestId = "r", Endpoint = "/v1/chat/completions", AdmittedIndex = 41, Outcome = "ok", Status = 200, Backend = "up", LatencyMs = 12.346,
                    ModelDigest = Hex, PromptTokens = 7, CompletionTokens = 11, AnswerSha256 = Hex2, Error = "e", Vendor = "openai", Region = "eu",
                    ModelVersion = "gpt-x-2026", Via = "console",
                }),
            new("request.completed minimal", AuditEventTypes.RequestCompleted,
                new JsonObject { ["requestId"] = "r", ["endpoint"] = "/v1/embeddings", ["admittedIndex"] = 0L, ["outcome"] = "error", ["status"] = 502, ["backend"] = "b", ["latencyMs"] = 0.0 },
                new RequestCompletedDetails { RequestId = "r", Endpoint = "/v1/embeddings", AdmittedIndex = 0, Outcome = "error", Status = 502, Backend = "b", LatencyMs = 0 }),

            // Stored responses
            new("response.stored", AuditEventTypes.ResponseStored,
                new JsonObject { ["responseId"] = "resp_1", ["requestId"] = "r", ["admittedIndex"] = 3L, ["model"] = "m", ["label"] = "SECRET", ["previousResponseId"] = "resp_0" },
                new ResponseStoredDetails { ResponseId = "resp_1", RequestId = "r", AdmittedIndex = 3, Model = "m", Label = "SECRET", PreviousResponseId = "resp_0" }),
            new("response.read", AuditEventTypes.ResponseRead,
                new JsonObject { ["responseId"] = "resp_1", ["owner"] = "user:bob" },
                new ResponseReadDetails { ResponseId = "resp_1", Owner = "user:bob" }),
            new("response.deleted", AuditEventTypes.ResponseDeleted,
                new JsonObject { ["responseId"] = "resp_1", ["owner"] = "user:bob", ["requestId"] = "r" },
                new ResponseDeletedDetails { ResponseId = "resp_1", Owner = "user:bob", RequestId = "r" }),
            new("response.cancelled", AuditEventTypes.ResponseCancelled,
                new JsonObject { ["responseId"] = "resp_1", ["owner"] = "user:bob", ["requestId"] = "r", ["status"] = "queued" },
                new ResponseCancelledDetails { ResponseId = "resp_1", Owner = "user:bob", RequestId = "r", Status = "queued" }),
            new("responses.purged", AuditEventTypes.ResponsesPurged,
                new JsonObject { ["count"] = 12, ["createdBefore"] = Time.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), ["retentionDays"] = 30 },
                new ResponsesPurgedDetails { Count = 12, CreatedBefore = Time.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture), RetentionDays = 30 }),

            // Authentication
            new("auth.failed full", AuditEventTypes.AuthFailed,
                new JsonObject
                {
                    ["scheme"] = "oidc", ["reason"] = "invalid_token", ["method"] = "GET", ["exception"] = "SecurityTokenException", ["keyId"] = "ek_1",
                    ["kid"] = "k", ["alg"] = "RS256", ["iss"] = "https://idp", ["remoteAddress"] = "10.1.1.1",
                },
                new AuthFailedDetails { Scheme = "oidc", Reason = "invalid_token", Method = "GET", Exception = "SecurityTokenException", KeyId = "ek_1", Kid = "k", Alg = "RS256", Iss = "https://idp", RemoteAddress = "10.1.1.1" }),
            new("auth.failed minimal", AuditEventTypes.AuthFailed,
                new JsonObject { ["scheme"] = "console", ["reason"] = "unknown_key", ["method"] = "POST" },
                new AuthFailedDetails { Scheme = "console", Reason = "unknown_key", Method = "POST" }),

            // Identities and keys
            new("user.added", AuditEventTypes.UserAdded,
                new JsonObject { ["name"] = "alice", ["kind"] = "user", ["roles"] = Strings("admin", "auditor"), ["clearance"] = "SECRET" },
                new UserAddedDetails { Name = "alice", Kind = "user", Roles = ["admin", "auditor"], Clearance = "SECRET" }),
            new("user.added demo approver", AuditEventTypes.UserAdded,
                new JsonObject { ["name"] = "demo-approver-1", ["kind"] = "user", ["roles"] = new JsonArray("airlock-approver"), ["clearance"] = null, ["purpose"] = "enclave up demo approver" },
                new UserAddedDetails { Name = "demo-approver-1", Kind = "user", Roles = ["airlock-approver"], Clearance = null, Purpose = "enclave up demo approver" }),
            new("user.disabled", AuditEventTypes.UserDisabled,
                new JsonObject { ["name"] = "alice", ["activeKeys"] = 2 },
                new UserDisabledDetails { Name = "alice", ActiveKeys = 2 }),
            new("user.updated", AuditEventTypes.UserUpdated,
                new JsonObject { ["name"] = "alice", ["roles"] = Strings(), ["clearance"] = null, ["previousRoles"] = Strings("admin"), ["previousClearance"] = "SECRET" },
                new UserUpdatedDetails { Name = "alice", Roles = [], Clearance = null, PreviousRoles = ["admin"], PreviousClearance = "SECRET" }),
            new("key.created", AuditEventTypes.KeyCreated,
                new JsonObject { ["principal"] = "user:alice", ["name"] = "ci", ["expires"] = AuditEvent.FormatTime(Time), ["via"] = "console" },
                new KeyCreatedDetails { Principal = "user:alice", Name = "ci", Expires = AuditEvent.FormatTime(Time), Via = "console" }),
            new("key.created no expiry", AuditEventTypes.KeyCreated,
                new JsonObject { ["principal"] = "user:admin", ["name"] = "initial admin", ["expires"] = null },
                new KeyCreatedDetails { Principal = "user:admin", Name = "initial admin", Expires = null }),
            new("key.revoked", AuditEventTypes.KeyRevoked,
                new JsonObject { ["principal"] = "user:alice", ["name"] = "ci" },
                new KeyRevokedDetails { Principal = "user:alice", Name = "ci" }),
            new("retention.read", AuditEventTypes.RetentionRead,
                new JsonObject { ["requestId"] = "r" },
                new RetentionReadDetails { RequestId = "r" }),

            // The airlock
            new("import.trust-pinned", AuditEventTypes.ImportTrustPinned,
                new JsonObject { ["root_sha256"] = Hex, ["root_version"] = 2, ["forced"] = true, ["replaced_sha256"] = Hex2 },
                new ImportTrustPinnedDetails { RootSha256 = Hex, RootVersion = 2, Forced = true, ReplacedSha256 = Hex2 }),
            new("import.trust-pinned first", AuditEventTypes.ImportTrustPinned,
                new JsonObject { ["root_sha256"] = Hex, ["root_version"] = 1, ["forced"] = false },
                new ImportTrustPinnedDetails { RootSha256 = Hex, RootVersion = 1, Forced = false }),
            new("import.trust-pin-failed", AuditEventTypes.ImportTrustPinFailed,
                new JsonObject { ["root_sha256"] = Hex, ["error"] = "bad" },
                new ImportTrustPinFailedDetails { RootSha256 = Hex, Error = "bad" }),
            new("import.received", AuditEventTypes.ImportReceived,
                new JsonObject { ["source"] = "/in/b.tar", ["via"] = "console" },
                new ImportReceivedDetails { Source = "/in/b.tar", Via = "console" }),
            new("import.verified", AuditEventTypes.ImportVerified,
                new JsonObject
                {
                    ["kind"] = "model", ["name"] = "m", ["version"] = "1", ["label"] = "SECRET", ["task"] = "text-generation", ["manifest_sha256"] = Hex,
                    ["target_count"] = 2, ["signer_key_ids"] = Strings("k1", "k2"), ["sbom_sha256"] = Hex2, ["provenance_sha256"] = null,
                    ["archive_bytes"] = 123456789012L, ["tuf_versions"] = new JsonObject { ["root"] = 1, ["snapshot"] = 4, ["targets"] = 3 },
                    ["required_approvals"] = 2,
                    ["targets"] = new JsonArray(
                        new JsonObject { ["path"] = "a.onnx", ["type"] = "model", ["sha256"] = Hex, ["length"] = 5L },
                        new JsonObject { ["path"] = "tokenizer.json", ["type"] = "tokenizer", ["sha256"] = Hex2, ["length"] = 0L }),
                    ["via"] = "console",
                },
                new ImportVerifiedDetails
                {
                    Kind = "model", Name = "m", Version = "1", Label = "SECRET", Task = "text-generation", ManifestSha256 = Hex, TargetCount = 2,
                    SignerKeyIds = ["k1", "k2"], SbomSha256 = Hex2, ProvenanceSha256 = null, ArchiveBytes = 123456789012L,
                    TufVersions = new Dictionary<string, int> { ["targets"] = 3, ["root"] = 1, ["snapshot"] = 4 }, RequiredApprovals = 2,
                    Targets =
                    [
                        new ImportVerifiedTarget { Path = "a.onnx", Type = "model", Sha256 = Hex, Length = 5 },
                        new ImportVerifiedTarget { Path = "tokenizer.json", Type = "tokenizer", Sha256 = Hex2, Length = 0 },
                    ],
                    Via = "console",
                }),
            new("import.verified many targets", AuditEventTypes.ImportVerified,
                new JsonObject
                {
                    ["kind"] = "intel", ["name"] = "feed", ["version"] = "2026.12", ["label"] = "UNCLASSIFIED", ["task"] = null, ["manifest_sha256"] = Hex,
                    ["target_count"] = 5000, ["signer_key_ids"] = Strings(), ["sbom_sha256"] = null, ["provenance_sha256"] = null,
                    ["archive_bytes"] = 0L, ["tuf_versions"] = new JsonObject(), ["required_approvals"] = 0,
                },
                new ImportVerifiedDetails
                {
                    Kind = "intel", Name = "feed", Version = "2026.12", Label = "UNCLASSIFIED", Task = null, ManifestSha256 = Hex, TargetCount = 5000,
                    SignerKeyIds = [], SbomSha256 = null, ProvenanceSha256 = null, ArchiveBytes = 0, TufVersions = new Dictionary<string, int>(), RequiredApprovals = 0,
                }),
            new("import.rejected scan", AuditEventTypes.ImportRejected,
                new JsonObject
                {
                    ["stage"] = "scan", ["reason"] = "pickle", ["detail"] = "d", ["findings"] = Strings("f1", "f2"), ["kind"] = "model", ["name"] = "m",
                    ["version"] = "1", ["via"] = "console",
                },
                new ImportRejectedDetails { Stage = "scan", Reason = "pickle", Detail = "d", Findings = ["f1", "f2"], Kind = "model", Name = "m", Version = "1", Via = "console" }),
            new("import.rejected by approver", AuditEventTypes.ImportRejected,
                new JsonObject { ["stage"] = "approval", ["reason"] = "rejected-by-approver", ["detail"] = "no", ["manifest_sha256"] = Hex },
                new ImportRejectedDetails { Stage = "approval", Reason = "rejected-by-approver", Detail = "no", ManifestSha256 = Hex }),
            new("import.approval-refused", AuditEventTypes.ImportApprovalRefused,
                new JsonObject { ["reason"] = "self-approval" },
                new ImportApprovalRefusedDetails { Reason = "self-approval" }),
            new("import.approved", AuditEventTypes.ImportApproved,
                new JsonObject { ["manifest_sha256"] = Hex, ["approvals"] = 1, ["required_approvals"] = 2, ["via"] = "console" },
                new ImportApprovedDetails { ManifestSha256 = Hex, Approvals = 1, RequiredApprovals = 2, Via = "console" }),
            new("import.approval-failed", AuditEventTypes.ImportApprovalFailed,
                new JsonObject { ["error"] = "disk full" },
                new ImportApprovalFailedDetails { Error = "disk full" }),
            new("import.activated", AuditEventTypes.ImportActivated,
                new JsonObject
                {
                    ["kind"] = "model", ["name"] = "m", ["version"] = "1", ["label"] = "SECRET", ["task"] = null, ["manifest_sha256"] = Hex,
                    ["approvers"] = Strings("user:a", "user:b"), ["folder"] = "artifacts/model/m/1",
                },
                new ImportActivatedDetails
                {
                    Kind = "model", Name = "m", Version = "1", Label = "SECRET", Task = null, ManifestSha256 = Hex, Approvers = ["user:a", "user:b"], Folder = "artifacts/model/m/1",
                }),
            new("import.activation-failed", AuditEventTypes.ImportActivationFailed,
                new JsonObject { ["error"] = "IOException: x", ["detail"] = "d" },
                new ImportActivationFailedDetails { Error = "IOException: x", Detail = "d" }),
            new("import.hook-failed", AuditEventTypes.ImportHookFailed,
                new JsonObject { ["hook"] = "SigmaRuleHook", ["kind"] = "intel", ["error"] = "e" },
                new ImportHookFailedDetails { Hook = "SigmaRuleHook", Kind = "intel", Error = "e" }),

            // Vulnerability data
            new("vulns.loaded", AuditEventTypes.VulnsLoaded,
                new JsonObject
                {
                    ["importId"] = "imp_1", ["name"] = "osv", ["version"] = "1",
                    ["osv"] = new JsonObject { ["records"] = 10, ["added"] = 8, ["replaced"] = 1, ["keptNewer"] = 1 },
                    ["kev"] = 3, ["vex"] = 0, ["problems"] = 1, ["problemSamples"] = new JsonArray(JsonValue.Create("a.json: bad")), ["newestModified"] = AuditEvent.FormatTime(Time),
                },
                new VulnsLoadedDetails
                {
                    ImportId = "imp_1", Name = "osv", Version = "1", Osv = new VulnsLoadedOsv { Records = 10, Added = 8, Replaced = 1, KeptNewer = 1 },
                    Kev = 3, Vex = 0, Problems = 1, ProblemSamples = ["a.json: bad"], NewestModified = AuditEvent.FormatTime(Time),
                }),
            new("vulns.rejected", AuditEventTypes.VulnsRejected,
                new JsonObject { ["importId"] = "imp_1", ["name"] = "osv", ["version"] = "1", ["reason"] = "Unreadable", ["error"] = "e" },
                new VulnsRejectedDetails { ImportId = "imp_1", Name = "osv", Version = "1", Reason = "Unreadable", Error = "e" }),
            new("vulns.sbom-added", AuditEventTypes.VulnsSbomAdded,
                new JsonObject { ["inventoryId"] = "sbom:x", ["format"] = "spdx", ["specVersion"] = "2.3", ["components"] = 4, ["sha256"] = Hex },
                new VulnsSbomAddedDetails { InventoryId = "sbom:x", Format = "spdx", SpecVersion = "2.3", Components = 4, Sha256 = Hex }),
            new("vex.decided", AuditEventTypes.VexDecided,
                new JsonObject { ["artifact"] = "sbom:x", ["component"] = "pkg:npm/a@1", ["advisory"] = "GHSA-1", ["status"] = "not_affected", ["justification"] = null, ["statement"] = "s", ["via"] = "console" },
                new VexDecidedDetails { Artifact = "sbom:x", Component = "pkg:npm/a@1", Advisory = "GHSA-1", Status = "not_affected", Justification = null, Statement = "s", Via = "console" }),
            new("vulns.approval-blocked", AuditEventTypes.VulnsApprovalBlocked,
                new JsonObject { ["importId"] = "imp_1", ["kev"] = new JsonArray((JsonNode)"CVE-2024-1"), ["findings"] = 2 },
                new VulnsApprovalBlockedDetails { ImportId = "imp_1", Kev = ["CVE-2024-1"], Findings = 2 }),

            // Upgrades
            new("upgrade.staged", AuditEventTypes.UpgradeStaged,
                new JsonObject
                {
                    ["version"] = "1.2.0", ["importId"] = "imp_1", ["name"] = "enclave", ["files"] = 3, ["bytes"] = 4096L, ["running"] = null, ["data"] = null,
                    ["resolves"] = null, ["introduces"] = new JsonArray((JsonNode)"GHSA-2"),
                },
                new UpgradeStagedDetails { Version = "1.2.0", ImportId = "imp_1", Name = "enclave", Files = 3, Bytes = 4096, Running = null, Data = null, Resolves = null, Introduces = ["GHSA-2"] }),
            new("upgrade.applied", AuditEventTypes.UpgradeApplied,
                new JsonObject { ["from"] = "1.1.0", ["to"] = "1.2.0", ["importId"] = "imp_1", ["installRoot"] = "/opt/enclave", ["resolves"] = new JsonArray() },
                new UpgradeAppliedDetails { From = "1.1.0", To = "1.2.0", ImportId = "imp_1", InstallRoot = "/opt/enclave", Resolves = [] }),
            new("upgrade.rolled_back", AuditEventTypes.UpgradeRolledBack,
                new JsonObject { ["from"] = null, ["to"] = "1.1.0", ["importId"] = null, ["installRoot"] = "/opt/enclave" },
                new UpgradeRolledBackDetails { From = null, To = "1.1.0", ImportId = null, InstallRoot = "/opt/enclave" }),
            new("upgrade.failed", AuditEventTypes.UpgradeFailed,
                new JsonObject { ["step"] = "stage", ["version"] = null, ["reason"] = "no-sbom", ["error"] = "e", ["current"] = "1.1.0" },
                new UpgradeFailedDetails { Step = "stage", Version = null, Reason = "no-sbom", Error = "e", Current = "1.1.0" }),

            // Ledger exports
            new("ledger.exported cli", AuditEventTypes.LedgerExported,
                new JsonObject { ["from"] = 0, ["to"] = 99L, ["entries"] = 100L, ["output"] = "/tmp/out", ["filesWritten"] = 7L },
                new LedgerExportedDetails { From = 0, To = 99, Entries = 100, Output = "/tmp/out", FilesWritten = 7 }),
            new("ledger.exported console", AuditEventTypes.LedgerExported,
                new JsonObject { ["from"] = 5L, ["to"] = 9L, ["entries"] = 5L, ["via"] = "console" },
                new LedgerExportedDetails { From = 5, To = 9, Entries = 5, Via = "console" }),

            // Detections and intel
            new("detections.loaded", AuditEventTypes.DetectionsLoaded,
                new JsonObject
                {
                    ["importId"] = "imp_1", ["name"] = "sigma", ["version"] = "1", ["files"] = 2, ["rules"] = 5, ["correlations"] = 1, ["filters"] = 0, ["skipped"] = 2,
                    ["skippedSamples"] = new JsonArray(
                        new JsonObject { ["source"] = "a.yml", ["id"] = null, ["reason"] = "Unsupported", ["detail"] = "d" },
                        new JsonObject { ["source"] = "b.yml", ["id"] = "r2", ["reason"] = "OtherProduct", ["detail"] = "" }),
                },
                new DetectionsLoadedDetails
                {
                    ImportId = "imp_1", Name = "sigma", Version = "1", Files = 2, Rules = 5, Correlations = 1, Filters = 0, Skipped = 2,
                    SkippedSamples =
                    [
                        new DetectionsSkippedSample { Source = "a.yml", Id = null, Reason = "Unsupported", Detail = "d" },
                        new DetectionsSkippedSample { Source = "b.yml", Id = "r2", Reason = "OtherProduct", Detail = "" },
                    ],
                }),
            new("intel.loaded", AuditEventTypes.IntelLoaded,
                new JsonObject
                {
                    ["importId"] = "imp_1", ["name"] = "stix", ["version"] = "1", ["sources"] = new JsonArray(JsonValue.Create("a.json")), ["indicators"] = 4, ["live"] = 3,
                    ["notEvaluable"] = 1, ["skipped"] = 0, ["added"] = 3, ["replaced"] = 0, ["keptNewer"] = 1, ["notEvaluableSamples"] = new JsonArray(JsonValue.Create("indicator--1: why")),
                },
                new IntelLoadedDetails
                {
                    ImportId = "imp_1", Name = "stix", Version = "1", Sources = ["a.json"], Indicators = 4, Live = 3, NotEvaluable = 1, Skipped = 0, Added = 3, Replaced = 0,
                    KeptNewer = 1, NotEvaluableSamples = ["indicator--1: why"],
                }),
            new("intel.rejected", AuditEventTypes.IntelRejected,
                new JsonObject { ["importId"] = "imp_1", ["name"] = "stix", ["version"] = "1", ["reason"] = "Invalid", ["error"] = "e" },
                new IntelRejectedDetails { ImportId = "imp_1", Name = "stix", Version = "1", Reason = "Invalid", Error = "e" }),
            new("intel.hunted", AuditEventTypes.IntelHunted,
                new JsonObject { ["trigger"] = "import:imp_1", ["from"] = 0L, ["to"] = 10L, ["entries"] = 10L, ["hits"] = 1L, ["alerts"] = 1 },
                new IntelHuntedDetails { Trigger = "import:imp_1", From = 0, To = 10, Entries = 10, Hits = 1, Alerts = 1 }),

            // Alerts
            new("alert.raised", AuditEventTypes.AlertRaised,
                new JsonObject { ["alertId"] = "alert_1", ["kind"] = "intel", ["severity"] = "high", ["title"] = "t", ["subject"] = "s", ["evidence"] = evidence.DeepClone(), ["dedupKey"] = "k" },
                new AlertRaisedDetails { AlertId = "alert_1", Kind = "intel", Severity = "high", Title = "t", Subject = "s", Evidence = (JsonObject)evidence.DeepClone(), DedupKey = "k" }),
            new("alert.acknowledged", AuditEventTypes.AlertAcknowledged,
                new JsonObject { ["alertId"] = "alert_1", ["raisedIndex"] = 4L, ["from"] = "open", ["note"] = "looking", ["via"] = "console" },
                new AlertAcknowledgedDetails { AlertId = "alert_1", RaisedIndex = 4, From = "open", Note = "looking", Via = "console" }),
            new("alert.resolved", AuditEventTypes.AlertResolved,
                new JsonObject { ["alertId"] = "alert_1", ["raisedIndex"] = 4L, ["from"] = "acknowledged", ["resolution"] = "false-positive", ["reason"] = null },
                new AlertResolvedDetails { AlertId = "alert_1", RaisedIndex = 4, From = "acknowledged", Resolution = "false-positive", Reason = null }),

            // Retrieval
            new("file.uploaded", AuditEventTypes.FileUploaded,
                new JsonObject
                {
                    ["fileId"] = "file-1", ["filename"] = "a.pdf", ["purpose"] = "assistants", ["sha256"] = Hex, ["bytes"] = 1024L, ["documentType"] = "Pdf", ["pages"] = 3,
                    ["label"] = "SECRET", ["highestLabel"] = "SECRET", ["chunks"] = 9, ["embeddingModel"] = "e5", ["modelDigest"] = null, ["importId"] = "imp_1",
                },
                new FileUploadedDetails
                {
                    FileId = "file-1", Filename = "a.pdf", Purpose = "assistants", Sha256 = Hex, Bytes = 1024, DocumentType = "Pdf", Pages = 3, Label = "SECRET",
                    HighestLabel = "SECRET", Chunks = 9, EmbeddingModel = "e5", ModelDigest = null, ImportId = "imp_1",
                }),
            new("file.deleted", AuditEventTypes.FileDeleted,
                new JsonObject { ["fileId"] = "file-1", ["sha256"] = Hex },
                new FileDeletedDetails { FileId = "file-1", Sha256 = Hex }),
            new("vector_store.created", AuditEventTypes.VectorStoreCreated,
                new JsonObject { ["vectorStoreId"] = "vs_1", ["name"] = "docs", ["files"] = new JsonArray(new JsonObject { ["fileId"] = "file-1", ["sha256"] = Hex }) },
                new VectorStoreCreatedDetails { VectorStoreId = "vs_1", Name = "docs", Files = [new VectorStoreFileDetail { FileId = "file-1", Sha256 = Hex }] }),
            new("vector_store.files-added", AuditEventTypes.VectorStoreFilesAdded,
                new JsonObject { ["vectorStoreId"] = "vs_1", ["files"] = new JsonArray() },
                new VectorStoreFilesAddedDetails { VectorStoreId = "vs_1", Files = [] }),
            new("vector_store.deleted", AuditEventTypes.VectorStoreDeleted,
                new JsonObject { ["vectorStoreId"] = "vs_1" },
                new VectorStoreDeletedDetails { VectorStoreId = "vs_1" }),
            new("retrieval.searched", AuditEventTypes.RetrievalSearched,
                new JsonObject
                {
                    ["vectorStoreId"] = "vs_1", ["querySha256"] = Hex, ["clearance"] = "SECRET", ["embeddingModel"] = "e5",
                    ["results"] = new JsonArray(new JsonObject { ["fileId"] = "file-1", ["sha256"] = Hex, ["chunkId"] = "file-1:0", ["label"] = "SECRET" }),
                },
                new RetrievalSearchedDetails
                {
                    VectorStoreId = "vs_1", QuerySha256 = Hex, Clearance = "SECRET", EmbeddingModel = "e5",
                    Results = [new RetrievalSearchedResult { FileId = "file-1", Sha256 = Hex, ChunkId = "file-1:0", Label = "SECRET" }],
                }),

            // The server and its state
            new("server.started", AuditEventTypes.ServerStarted,
                new JsonObject
                {
                    ["urls"] = new JsonArray(JsonValue.Create("http://127.0.0.1:8080")),
                    ["models"] = new JsonArray(new JsonObject { ["id"] = "m", ["kind"] = "onnx", ["digest"] = Hex, ["source"] = null }),
                    ["upstreamBackends"] = new JsonArray(new JsonObject { ["name"] = "vllm", ["baseUrl"] = "http://gpu:8000", ["models"] = new JsonArray(JsonValue.Create("llama")) }),
                    ["retention"] = "off",
                },
                new ServerStartedDetails
                {
                    Urls = ["http://127.0.0.1:8080"],
                    Models = [new ServerStartedModel { Id = "m", Kind = "onnx", Digest = Hex, Source = null }],
                    UpstreamBackends = [new ServerStartedBackend { Name = "vllm", BaseUrl = "http://gpu:8000", Models = ["llama"] }],
                    Retention = "off",
                }),
            new("state.migrated", AuditEventTypes.StateMigrated,
                new JsonObject { ["database"] = "enclave.db", ["from_version"] = 3, ["to_version"] = 4 },
                new StateMigratedDetails { Database = "enclave.db", FromVersion = 3, ToVersion = 4 }),
        ];
    }
}
