using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Enclave.Core.Audit;

/// <summary>
/// One audit event: the single schema every component appends to the ledger. Its canonical form
/// (RFC 8785 JSON, <see cref="ToCanonicalJson"/>) is the exact byte string hashed into the Merkle tree.
/// </summary>
public sealed partial record AuditEvent
{
    /// <summary>Largest canonical event in bytes; entry bundles prefix entries with a uint16 length.</summary>
    public const int MaxEncodedSize = ushort.MaxValue;

    /// <summary>Longest type, actor or subject string.</summary>
    public const int MaxFieldLength = 512;

    /// <summary>Dotted lower-case event type, e.g. <c>request.admitted</c>, <c>import.activated</c>.</summary>
    public required string Type { get; init; }

    /// <summary>When it happened (UTC, millisecond precision in the canonical form).</summary>
    public required DateTimeOffset Time { get; init; }

    /// <summary>Who did it: a principal ID such as <c>user:alice</c>, <c>key:ek_4f2a</c> or <c>system</c>.</summary>
    public required string Actor { get; init; }

    /// <summary>What it was done to: a model, a bundle, a request ID.</summary>
    public required string Subject { get; init; }

    private readonly JsonElement? _details;
    private readonly byte[]? _canonicalDetails;

    /// <summary>Type-specific details, a JSON object (canonicalized on encoding).</summary>
    public JsonElement? Details
    {
        get => _details ?? (_canonicalDetails is null ? null : JsonDocument.Parse(_canonicalDetails).RootElement);
        init => (_details, _canonicalDetails) = (value, null);
    }

    /// <summary>
    /// An event whose details are canonicalized once, here, straight from a <see cref="JsonObject"/>: for the hot
    /// path (two entries per API request), where serializing the details and parsing them back into a
    /// <see cref="JsonElement"/> cost more than the rest of the encoding.
    /// </summary>
    /// <exception cref="EnclaveFormatException">The details hold a non-finite number or an unpaired surrogate.</exception>
    internal static AuditEvent Create(string type, DateTimeOffset time, string actor, string subject, JsonObject details)
    {
        ArgumentNullException.ThrowIfNull(details);
        return new AuditEvent { Type = type, Time = time, Actor = actor, Subject = subject, CanonicalDetails = CanonicalJson.Canonicalize(details) };
    }

    /// <summary>
    /// An event of a declared type (<see cref="AuditEventTypes"/>) with hand-built details, canonicalized once, here:
    /// only for the audit schema's own tests, which hold each details record to the bytes such details gave. Code
    /// writes an event from its details record (<see cref="Create{TDetails}(DateTimeOffset, string, string, TDetails)"/>).
    /// </summary>
    /// <exception cref="EnclaveFormatException">The details hold a non-finite number or an unpaired surrogate.</exception>
    internal static AuditEvent Create(AuditEventType type, DateTimeOffset time, string actor, string subject, JsonObject details)
    {
        ArgumentNullException.ThrowIfNull(type);
        return Create(type.Name, time, actor, subject, details);
    }

    /// <summary>
    /// An event of the declared type whose details <paramref name="details"/> are (<see cref="AuditEventTypes"/>), written
    /// straight into canonical form: the bytes a <see cref="JsonObject"/> of the same members gives.
    /// </summary>
    /// <exception cref="ArgumentException"><typeparamref name="TDetails"/> is no declared type's details record.</exception>
    /// <exception cref="EnclaveFormatException">A string holds an unpaired surrogate, or a number is not finite.</exception>
    public static AuditEvent Create<TDetails>(DateTimeOffset time, string actor, string subject, TDetails details)
        where TDetails : class, IAuditDetails
    {
        ArgumentNullException.ThrowIfNull(details);
        var type = AuditEventTypes.Find(details.GetType())
            ?? throw new ArgumentException($"{details.GetType().Name} is not the details record of a declared audit event type (AuditEventTypes)", nameof(details));
        return Create(type, time, actor, subject, details, static (ref writer, d) => d.Write(ref writer));
    }

    /// <summary>
    /// An event of a declared type whose details are written straight into canonical form by <paramref name="write"/>
    /// (see <see cref="AuditDetailsWriter"/>): how every details record is written, without an intermediate <see cref="JsonObject"/>.
    /// </summary>
    /// <exception cref="EnclaveFormatException">A string holds an unpaired surrogate, or a number is not finite.</exception>
    internal static AuditEvent Create<TState>(AuditEventType type, DateTimeOffset time, string actor, string subject, TState state, AuditDetailsWriting<TState> write)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(write);
        var buffer = ScratchBuffer.Rent();
        try
        {
            var details = new AuditDetailsWriter(buffer, type);
            write(ref details, state);
            details.End();
            return new AuditEvent { Type = type.Name, Time = time, Actor = actor, Subject = subject, CanonicalDetails = buffer.WrittenSpan.ToArray() };
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    private byte[]? CanonicalDetails
    {
        init => (_details, _canonicalDetails) = (null, value);
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex TypePattern();

    /// <summary>The canonical JSON bytes: <c>{"actor","details","subject","time","type"}</c> in RFC 8785 form.</summary>
    public byte[] ToCanonicalJson()
    {
        var problems = Validate();
        if (problems.Count > 0)
        {
            throw new EnclaveFormatException("invalid audit event: " + string.Join("; ", problems));
        }

        // The envelope's keys are fixed and already in RFC 8785 order, so it is written directly; only the
        // details object needs canonicalizing. (Half of an append's CPU went to re-parsing the whole event.)
        var buffer = ScratchBuffer.Rent();
        try
        {
            return WriteCanonical(buffer);
        }
        finally
        {
            ScratchBuffer.Return(buffer);
        }
    }

    private byte[] WriteCanonical(ArrayBufferWriter<byte> buffer)
    {
        buffer.Write("{\"actor\":"u8);
        CanonicalJson.WriteString(Actor, buffer);
        buffer.Write(",\"details\":"u8);
        if (_canonicalDetails is { } canonicalDetails)
        {
            buffer.Write(canonicalDetails);
        }
        else if (Details is { } details)
        {
            try
            {
                CanonicalJson.Write(details, buffer);
            }
            catch (InvalidOperationException ex)
            {
                throw new EnclaveFormatException($"invalid audit event details: {ex.Message}", ex);
            }
        }
        else
        {
            buffer.Write("{}"u8);
        }

        buffer.Write(",\"subject\":"u8);
        CanonicalJson.WriteString(Subject, buffer);
        buffer.Write(",\"time\":"u8);
        CanonicalJson.WriteString(FormatTime(Time), buffer);
        buffer.Write(",\"type\":"u8);
        CanonicalJson.WriteString(Type, buffer);
        buffer.Write("}"u8);
        if (buffer.WrittenCount > MaxEncodedSize)
        {
            throw new EnclaveFormatException($"audit event is {buffer.WrittenCount} bytes; the limit is {MaxEncodedSize}");
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Every schema problem of this event (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrEmpty(Type) || Type.Length > 128 || !TypePattern().IsMatch(Type))
        {
            problems.Add($"type '{Truncate(Type)}' must be dotted lower-case words (a-z, 0-9, '-', '_'), at most 128 characters");
        }

        CheckText(problems, "actor", Actor);
        CheckText(problems, "subject", Subject);
        if (_details is { } d && d.ValueKind != JsonValueKind.Object) // canonical details come from a JsonObject
        {
            problems.Add($"details must be a JSON object, not {d.ValueKind}");
        }

        if (Time.Year is < 1970 or > 9999)
        {
            problems.Add("time must be between 1970 and 9999");
        }

        return problems;
    }

    /// <summary>Parses a canonical event from ledger bytes; rejects anything not in canonical form.</summary>
    public static AuditEvent Parse(ReadOnlySpan<byte> canonicalJson)
    {
        if (canonicalJson.Length > MaxEncodedSize)
        {
            throw new EnclaveFormatException($"audit event is {canonicalJson.Length} bytes; the limit is {MaxEncodedSize}");
        }

        var evt = FromJson(canonicalJson, defaults: null);
        if (!canonicalJson.SequenceEqual(evt.ToCanonicalJson()))
        {
            throw new EnclaveFormatException("audit event is not in canonical form (RFC 8785)");
        }

        return evt;
    }

    /// <summary>
    /// Reads an event from JSON written by a person or a script. An object that has none of the event fields
    /// is taken as the details of a new event; missing fields come from <paramref name="defaults"/>.
    /// </summary>
    public static AuditEvent FromJson(ReadOnlySpan<byte> json, AuditEventDefaults? defaults)
    {
        using var document = CanonicalJson.Parse(json);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new EnclaveFormatException($"an audit event must be a JSON object, not {root.ValueKind}");
        }

        string[] fields = ["type", "time", "actor", "subject", "details"];
        var isEvent = fields.Any(f => root.TryGetProperty(f, out _));
        if (!isEvent)
        {
            if (defaults is null)
            {
                throw new EnclaveFormatException("audit event lacks the fields type, time, actor, subject");
            }

            return Build(defaults.Type, defaults.Time, defaults.Actor, defaults.Subject, root.Clone());
        }

        foreach (var property in root.EnumerateObject())
        {
            if (!fields.Contains(property.Name, StringComparer.Ordinal))
            {
                throw new EnclaveFormatException($"unknown audit event field '{Truncate(property.Name)}' (allowed: {string.Join(", ", fields)}; put anything else in details)");
            }
        }

        var type = ReadString(root, "type") ?? defaults?.Type;
        if (defaults?.Type is { } requiredType && type != requiredType)
        {
            throw new EnclaveFormatException($"event type '{Truncate(type)}' differs from the requested type '{requiredType}'");
        }

        var timeText = ReadString(root, "time");
        DateTimeOffset? time = defaults?.Time;
        if (timeText is not null)
        {
            if (!DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
                || !timeText.Contains('T', StringComparison.Ordinal))
            {
                throw new EnclaveFormatException($"time '{Truncate(timeText)}' is not an RFC 3339 timestamp");
            }

            time = parsed;
        }

        JsonElement? details = root.TryGetProperty("details", out var d) ? d.Clone() : null;
        return Build(type, time, ReadString(root, "actor") ?? defaults?.Actor, ReadString(root, "subject") ?? defaults?.Subject, details);
    }

    private static AuditEvent Build(string? type, DateTimeOffset? time, string? actor, string? subject, JsonElement? details)
    {
        var missing = new List<string>();
        if (type is null) { missing.Add("type"); }
        if (time is null) { missing.Add("time"); }
        if (actor is null) { missing.Add("actor"); }
        if (subject is null) { missing.Add("subject"); }
        if (missing.Count > 0)
        {
            throw new EnclaveFormatException("audit event lacks " + string.Join(", ", missing));
        }

        var evt = new AuditEvent { Type = type!, Time = time!.Value, Actor = actor!, Subject = subject!, Details = details };
        var problems = evt.Validate();
        if (problems.Count > 0)
        {
            throw new EnclaveFormatException("invalid audit event: " + string.Join("; ", problems));
        }

        return evt;
    }

    private static string? ReadString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new EnclaveFormatException($"audit event field '{name}' must be a string");
    }

    private static void CheckText(List<string> problems, string name, string value)
    {
        if (value is null || value.Length == 0 || value.Length > MaxFieldLength || value.Any(char.IsControl))
        {
            problems.Add($"{name} must be 1 to {MaxFieldLength} characters without control characters");
        }
    }

    /// <summary>RFC 3339 UTC with milliseconds, e.g. <c>2026-11-22T20:31:05.123Z</c>.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string Truncate(string? s) => s is null ? "(none)" : s.Length <= 64 ? s : s[..64] + "…";
}

/// <summary>Values used for fields that an event read from JSON does not carry.</summary>
public sealed record AuditEventDefaults
{
    public string? Type { get; init; }
    public DateTimeOffset? Time { get; init; }
    public string? Actor { get; init; }
    public string? Subject { get; init; }
}
