using System.Buffers;
using System.Buffers.Text;
using System.Text.Json.Nodes;

namespace Enclave.Core.Audit;

/// <summary>Writes one event's details through <paramref name="details"/>, from <paramref name="state"/>.</summary>
public delegate void AuditDetailsWriting<in TState>(ref AuditDetailsWriter details, TState state);

/// <summary>
/// Writes an audit event's details object straight into its RFC 8785 canonical form, member by member, for the events of
/// the request path (two per API request), where building a <see cref="JsonObject"/> only to sort and canonicalize it
/// was a fifth of what a request allocated. The caller writes members in canonical order (ordinal order of their names,
/// which for the ASCII names of <see cref="AuditEventTypes"/> is RFC 8785's UTF-16 order) and only members its event
/// type declares; either mistake throws <see cref="InvalidOperationException"/>, so a test of the writer finds it. The
/// bytes are exactly those <see cref="CanonicalJson.Canonicalize(JsonNode?, int)"/> gives for the same members.
/// </summary>
public ref struct AuditDetailsWriter
{
    private readonly IBufferWriter<byte> _output;
    private readonly AuditEventType _type;
    private string? _last;

    internal AuditDetailsWriter(IBufferWriter<byte> output, AuditEventType type)
    {
        _output = output;
        _type = type;
        _output.Write("{"u8);
    }

    /// <summary>A string member.</summary>
    public void String(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Name(name);
        CanonicalJson.WriteString(value, _output);
    }

    /// <summary>An integer member.</summary>
    public void Number(string name, long value)
    {
        Name(name);
        if (value is >= -MaxExactInteger and <= MaxExactInteger)
        {
            var span = _output.GetSpan(24);
            Utf8Formatter.TryFormat(value, span, out var written);
            _output.Advance(written);
        }
        else
        {
            // Beyond 2^53 the ledger's numbers are IEEE doubles, as a JsonObject's long would be canonicalized.
            Write(CanonicalJson.FormatNumber(value));
        }
    }

    /// <summary>A number member (finite), in ECMAScript's shortest form.</summary>
    public void Number(string name, double value)
    {
        Name(name);
        CanonicalJson.WriteNumber(value, _output);
    }

    /// <summary>A boolean member.</summary>
    public void Boolean(string name, bool value)
    {
        Name(name);
        _output.Write(value ? "true"u8 : "false"u8);
    }

    /// <summary>A member holding any JSON value (an object, an array), canonicalized.</summary>
    public void Node(string name, JsonNode? value)
    {
        Name(name);
        CanonicalJson.Write(value, _output);
    }

    /// <summary>A string member when <paramref name="value"/> is not null; nothing otherwise.</summary>
    public void Optional(string name, string? value)
    {
        if (value is not null)
        {
            String(name, value);
        }
    }

    /// <summary>A JSON member when <paramref name="value"/> is not null; nothing otherwise.</summary>
    public void Optional(string name, JsonNode? value)
    {
        if (value is not null)
        {
            Node(name, value);
        }
    }

    internal void End() => _output.Write("}"u8);

    // 2^53: integers up to this are written as digits by both Utf8Formatter and ECMAScript's Number.toString.
    private const long MaxExactInteger = 1L << 53;

    private void Name(string name)
    {
        if (!_type.Declares(name))
        {
            throw new InvalidOperationException($"{_type.Name} does not declare the field {name} (AuditEventTypes)");
        }

        if (_last is not null)
        {
            if (string.CompareOrdinal(_last, name) >= 0)
            {
                throw new InvalidOperationException($"{_type.Name} details: {name} written after {_last}, out of canonical order or twice");
            }

            _output.Write(","u8);
        }

        _last = name;
        CanonicalJson.WriteString(name, _output);
        _output.Write(":"u8);
    }

    private void Write(string ascii)
    {
        var span = _output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
        {
            span[i] = (byte)ascii[i];
        }

        _output.Advance(ascii.Length);
    }
}
