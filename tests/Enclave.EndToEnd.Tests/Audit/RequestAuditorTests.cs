using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Inference.Backends;
using Enclave.Server.Audit;
using FsCheck;
using FsCheck.Xunit;

namespace Enclave.EndToEnd.Tests.Audit;

/// <summary>
/// The request events are written member by member straight into canonical form (<see cref="AuditDetailsWriter"/>). These
/// tests hold them to the bytes the earlier code wrote from a <see cref="JsonObject"/> (kept here as the reference), so
/// that ledgers, digests, detections and the console read exactly what they read before.
/// </summary>
public sealed class RequestAuditorTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 7, 30, 0, 250, TimeSpan.Zero);

    [Property(MaxTest = 200)]
    public bool Admitted_IsTheSameEntryAsBefore(NonNull<string> requestId, NonNull<string> model, bool stream, string? user, string? address, bool policy, bool intel)
    {
        const string Actor = "key:ek_1";
        var request = new RequestAdmittedDetails
        {
            RequestId = requestId.Get,
            Endpoint = "/v1/chat/completions",
            Model = model.Get,
            Backend = "stub",
            Stream = stream,
            PromptSha256 = new string('a', 64),
            ClientAddress = address,
            User = user,
            Policy = policy ? Policy() : null,
            Intel = intel ? [new JsonObject { ["indicator"] = "indicator--1", ["matched"] = "10.0.0.1", ["action"] = "alert" }] : null,
        };
        var expected = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["endpoint"] = request.Endpoint,
            ["model"] = request.Model,
            ["backend"] = request.Backend,
            ["stream"] = request.Stream,
            ["promptSha256"] = request.PromptSha256,
        };
        if (request.Policy is not null)
        {
            expected["policy"] = request.Policy.DeepClone();
        }

        AddWho(expected, address, user, request.Intel?.DeepClone().AsArray());
        return Same(expected, AuditEventTypes.RequestAdmitted, Actor, model.Get, ledger => new RequestAuditor(ledger, new FixedClock()).AdmitAsync(Actor, request, default));
    }

    [Property(MaxTest = 200)]
    public bool Denied_IsTheSameEntryAsBefore(NonNull<string> rule, int status, string? user, bool policy)
    {
        const string Actor = "user:alice";
        var request = new RequestDeniedDetails
        {
            RequestId = "req_1",
            Endpoint = "/v1/embeddings",
            Model = "m",
            Status = status,
            Rule = rule.Get,
            PromptSha256 = new string('b', 64),
            Policy = policy ? Policy() : null,
            ClientAddress = "127.0.0.1",
            User = user,
        };
        var expected = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["endpoint"] = request.Endpoint,
            ["model"] = request.Model,
            ["status"] = request.Status,
            ["rule"] = request.Rule,
            ["promptSha256"] = request.PromptSha256,
        };
        if (request.Policy is not null)
        {
            expected["policy"] = request.Policy.DeepClone();
        }

        AddWho(expected, request.ClientAddress, user, null);
        return Same(expected, AuditEventTypes.RequestDenied, Actor, request.Model, ledger => new RequestAuditor(ledger, new FixedClock()).DenyAsync(Actor, request));
    }

    [Property(MaxTest = 300)]
    public bool Completed_IsTheSameEntryAsBefore(
        long admittedIndex, int status, NormalFloat latencyMs, bool usage, int prompt, int completion,
        string? digest, string? answer, string? error, string? vendor, string? region, string? version)
    {
        var request = new CompletedRequest
        {
            Endpoint = "/v1/chat/completions",
            RequestId = "req_2",
            Actor = "key:ek_2",
            Model = "demo",
            AdmittedIndex = admittedIndex,
            Outcome = "ok",
            Status = status,
            Backend = "local",
            Latency = TimeSpan.FromMilliseconds(Math.Clamp(latencyMs.Get, -1e9, 1e9)),
            Usage = usage ? new TokenUsage(prompt, completion) : null,
            ModelDigest = digest,
            AnswerSha256 = answer,
            Error = error,
            Vendor = vendor,
            Region = region,
            ModelVersion = version,
        };
        var expected = new JsonObject
        {
            ["requestId"] = request.RequestId,
            ["admittedIndex"] = request.AdmittedIndex,
            ["endpoint"] = request.Endpoint,
            ["outcome"] = request.Outcome,
            ["status"] = request.Status,
            ["backend"] = request.Backend,
            ["latencyMs"] = Math.Round(request.Latency.TotalMilliseconds, 3),
        };
        if (digest is not null)
        {
            expected["modelDigest"] = digest;
        }

        if (request.Usage is { } used)
        {
            expected["promptTokens"] = used.PromptTokens;
            expected["completionTokens"] = used.CompletionTokens;
        }

        if (answer is not null)
        {
            expected["answerSha256"] = answer;
        }

        if (error is not null)
        {
            expected["error"] = error;
        }

        if (vendor is not null)
        {
            expected["vendor"] = vendor;
        }

        if (region is not null)
        {
            expected["region"] = region;
        }

        if (version is not null)
        {
            expected["modelVersion"] = version;
        }

        return Same(expected, AuditEventTypes.RequestCompleted, request.Actor, request.Model, ledger => new RequestAuditor(ledger, new FixedClock()).CompleteAsync(request));
    }

    [Fact]
    public async Task ALongUserIsCut_AsBefore()
    {
        var ledger = new CapturingLedger();
        await new RequestAuditor(ledger, new FixedClock()).DenyAsync("a", new RequestDeniedDetails
        {
            RequestId = "r", Endpoint = "/v1/completions", Model = "m", Status = 403, Rule = "clearance", PromptSha256 = "p",
            User = new string('u', RequestAuditor.MaxUserLength + 10),
        });

        var details = JsonNode.Parse(ledger.Entries.Single().ToCanonicalJson())!["details"]!;
        Assert.Equal(RequestAuditor.MaxUserLength, details["user"]!.GetValue<string>().Length);
    }

    [Fact]
    public async Task Denied_RecordsNoEmptyUser_AndLeavesTheCallersDetailsAsTheyWere()
    {
        var ledger = new CapturingLedger();
        var denied = new RequestDeniedDetails
        {
            RequestId = "r", Endpoint = "/v1/completions", Model = "m", Status = 403, Rule = "clearance", PromptSha256 = "p", User = "",
        };
        await new RequestAuditor(ledger, new FixedClock()).DenyAsync("a", denied);

        var entry = JsonNode.Parse(ledger.Entries.Single().ToCanonicalJson())!;
        Assert.Equal("a", entry["actor"]!.GetValue<string>());
        Assert.False(entry["details"]!.AsObject().ContainsKey("user"));
        Assert.Equal(string.Empty, denied.User);
    }

    [Theory]
    [InlineData(new long[0], null)]
    [InlineData(new long[] { 7, 12 }, "[7,12]")]
    public async Task Admitted_RecordsRetrievalOnlyWhenItHasIndexes_AsBefore(long[] indexes, string? recorded)
    {
        var ledger = new CapturingLedger();
        await new RequestAuditor(ledger, new FixedClock()).AdmitAsync("a", new RequestAdmittedDetails
        {
            RequestId = "r", Endpoint = "/v1/chat/completions", Model = "m", Backend = "b", Stream = false, PromptSha256 = "p",
            Retrieval = indexes, User = "",
        }, default);

        var details = JsonNode.Parse(ledger.Entries.Single().ToCanonicalJson())!["details"]!.AsObject();
        Assert.Equal(recorded, details["retrieval"]?.ToJsonString());
        Assert.False(details.ContainsKey("user"));
    }

    // The previous code's AddWho, verbatim in effect.
    private static void AddWho(JsonObject details, string? clientAddress, string? user, JsonArray? intel)
    {
        if (clientAddress is not null)
        {
            details["clientAddress"] = clientAddress;
        }

        if (!string.IsNullOrEmpty(user))
        {
            details["user"] = user.Length <= RequestAuditor.MaxUserLength ? user : user[..RequestAuditor.MaxUserLength];
        }

        if (intel is not null)
        {
            details["intel"] = intel;
        }
    }

    private static JsonObject Policy() => new()
    {
        ["decision"] = "allow",
        ["rules"] = new JsonArray(new JsonObject { ["name"] = "clearance", ["passed"] = true }, new JsonObject { ["name"] = "egress", ["passed"] = true }),
        ["label"] = "UNCLASSIFIED",
        ["score"] = 0.25,
    };

    private static bool Same(JsonObject details, AuditEventType type, string actor, string model, Func<ILedger, Task<long>> write)
    {
        var subject = "model:" + model;
        subject = subject.Length <= AuditEvent.MaxFieldLength ? subject : subject[..AuditEvent.MaxFieldLength];
        byte[] expected;
        try
        {
            // The earlier code's event: the JsonObject canonicalized, in the envelope.
            using var canonical = JsonDocument.Parse(CanonicalJson.Canonicalize(details));
            expected = new AuditEvent { Type = type.Name, Time = Now, Actor = actor, Subject = subject, Details = canonical.RootElement.Clone() }.ToCanonicalJson();
        }
        catch (EnclaveFormatException)
        {
            // Generated text with an unpaired surrogate, or a subject the envelope refuses: refused both ways.
            var refused = new CapturingLedger();
            return Record.Exception(() => write(refused).GetAwaiter().GetResult()) is EnclaveFormatException;
        }

        var ledger = new CapturingLedger();
        write(ledger).GetAwaiter().GetResult();
        return expected.AsSpan().SequenceEqual(ledger.Entries.Single().ToCanonicalJson());
    }

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;
    }

    // Keeps what was appended; nothing else of a ledger is used by the auditor.
    private sealed class CapturingLedger : ILedger
    {
        public List<AuditEvent> Entries { get; } = [];

        public string Origin => "test";

        public long Size => Entries.Count;

        public ValueTask<long> AppendAsync(AuditEvent auditEvent, CancellationToken cancellationToken = default)
        {
            _ = auditEvent.ToCanonicalJson(); // as the ledger encodes it: a refused event throws here
            Entries.Add(auditEvent);
            return ValueTask.FromResult((long)Entries.Count - 1);
        }

        public ValueTask<SignedCheckpoint> CheckpointAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public IReadOnlyList<Sha256Digest> ProveInclusion(long index, long treeSize) => throw new NotSupportedException();

        public IReadOnlyList<Sha256Digest> ProveConsistency(long oldSize, long newSize) => throw new NotSupportedException();

        public byte[] ReadEntry(long index) => throw new NotSupportedException();
    }
}
