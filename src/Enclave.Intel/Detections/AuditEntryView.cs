using System.Globalization;
using System.Text;
using System.Text.Json;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;

namespace Enclave.Intel.Detections;

/// <summary>
/// One canonical ledger entry read once for both live engines: a single forward <see cref="Utf8JsonReader"/> pass over
/// the bytes yields the <see cref="InsiderEvent"/> the insider engine reads and the <see cref="SigmaEvent"/> the Sigma
/// engine reads, with the same fields, values and limits as <see cref="InsiderEvent.FromAuditJson"/> and
/// <see cref="SigmaEvent.FromAuditJson"/> give them from separate parses (no <see cref="JsonDocument"/>, no copy of the
/// bytes). The Sigma view is absent (<see cref="Sigma"/> null, <see cref="SigmaError"/> says why) where the Sigma parser
/// would refuse an entry the insider parser reads: an empty <c>type</c>, more than
/// <see cref="SigmaEvent.MaxAuditFields"/> fields or <see cref="SigmaEvent.MaxValuesPerField"/> values of one field.
/// </summary>
public sealed class AuditEntryView
{
    private const string DetailsName = "details";

    internal AuditEntryView(InsiderEvent insider, SigmaEvent? sigma, string? sigmaError)
    {
        Insider = insider;
        Sigma = sigma;
        SigmaError = sigmaError;
    }

    /// <summary>The entry as the insider engine sees it.</summary>
    public InsiderEvent Insider { get; }

    /// <summary>The entry as the Sigma engine sees it, or null when the Sigma parser refuses it (<see cref="SigmaError"/>).</summary>
    public SigmaEvent? Sigma { get; }

    /// <summary>Why <see cref="Sigma"/> is null; null when it is not.</summary>
    public string? SigmaError { get; }

    /// <summary>
    /// Reads one canonical ledger entry. Throws <see cref="FormatException"/> when it is not an audit event (not a JSON
    /// object of at most <see cref="InsiderEvent.MaxDepth"/> levels with a <c>type</c> string and an RFC 3339
    /// <c>time</c>).
    /// </summary>
    public static AuditEntryView Parse(ReadOnlySpan<byte> json, long? position = null)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = InsiderEvent.MaxDepth });
        var state = new ParseState();
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("not an audit event: the JSON is not an object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = Names.Get(ref reader).Name;
                reader.Read();
                ReadRootMember(ref reader, name, state);
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                throw new FormatException("not an audit event: the JSON object is not closed, or something follows it");
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"not an audit event: {ex.Message}", ex);
        }
        catch (InvalidOperationException ex)
        {
            throw new FormatException($"not an audit event: {ex.Message}", ex);
        }

        if (state.Type is null || state.TimeText is null
            || !DateTimeOffset.TryParse(state.TimeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            throw new FormatException("not an audit event: it needs a \"type\" string and an RFC 3339 \"time\"");
        }

        Sizes.Saw(state);
        var insider = new InsiderEvent
        {
            Type = state.Type,
            Time = time,
            Actor = state.Actor ?? string.Empty,
            Subject = state.Subject ?? string.Empty,
            Details = state.Details ?? InsiderEvent.NoDetails,
        };

        var sigmaError = state.SigmaError ?? (state.Type.Length == 0 ? "not an audit event: no \"type\" string" : null);
        var sigma = sigmaError is not null
            ? null
            : new SigmaEvent(
                time,
                new SigmaLogSource { Product = "enclave", Category = SigmaEvent.AuditCategory(state.Type), Service = "audit" },
                state.Fields,
                position);
        return new AuditEntryView(insider, sigma, sigmaError);
    }

    private static void ReadRootMember(ref Utf8JsonReader reader, string name, ParseState state)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                var text = reader.GetString()!;
                switch (name)
                {
                    case "type":
                        state.Type = text;
                        break;
                    case "time":
                        state.TimeText = text;
                        break;
                    case "actor":
                        state.Actor = text;
                        break;
                    case "subject":
                        state.Subject = text;
                        break;
                }

                state.AddSigma(name, text);
                return;
            case JsonTokenType.StartObject when name == DetailsName:
                state.Details = new Dictionary<string, string>(Sizes.Details, StringComparer.Ordinal);
                ReadValue(ref reader, name, null, state, insider: true);
                return;
            default:
                MarkNotString(name, state);
                ReadValue(ref reader, name, null, state, insider: false);
                return;
        }
    }

    // A root member that is not a string: the envelope field it would have been is absent for both parsers.
    private static void MarkNotString(string name, ParseState state)
    {
        switch (name)
        {
            case "type":
                state.Type = null;
                break;
            case "time":
                state.TimeText = null;
                break;
            case "actor":
                state.Actor = null;
                break;
            case "subject":
                state.Subject = null;
                break;
        }
    }

    // Walks one value: Sigma names join object keys with dots and give arrays' items the array's name; the insider
    // names (under details only) join object keys with dots and give array items their index.
    private static void ReadValue(ref Utf8JsonReader reader, string sigmaName, string? insiderName, ParseState state, bool insider)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (insider && insiderName is null)
                    {
                        // A member of details itself (most of them): both names from the cache, nothing concatenated.
                        var (key, detailsPath) = Names.Get(ref reader);
                        reader.Read();
                        ReadValue(ref reader, detailsPath, key, state, insider);
                    }
                    else
                    {
                        var key = reader.GetString()!;
                        reader.Read();
                        ReadValue(ref reader, sigmaName + "." + key, !insider ? null : insiderName + "." + key, state, insider);
                    }
                }

                break;
            case JsonTokenType.StartArray:
                var i = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    ReadValue(ref reader, sigmaName, !insider ? null : (insiderName ?? string.Empty) + "." + i.ToString(CultureInfo.InvariantCulture), state, insider);
                    i++;
                }

                break;
            case JsonTokenType.String:
                var text = reader.GetString()!;
                state.AddSigma(sigmaName, text);
                if (insider)
                {
                    state.AddInsider(insiderName, text);
                }

                break;
            case JsonTokenType.Null:
                state.AddSigma(sigmaName, null);
                break;
            case JsonTokenType.True:
                state.AddSigma(sigmaName, "true");
                if (insider)
                {
                    state.AddInsider(insiderName, "true");
                }

                break;
            case JsonTokenType.False:
                state.AddSigma(sigmaName, "false");
                if (insider)
                {
                    state.AddInsider(insiderName, "false");
                }

                break;
            default:
                var raw = reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);
                state.AddSigma(sigmaName, raw);
                if (insider)
                {
                    state.AddInsider(insiderName, raw);
                }

                break;
        }
    }

    // Property names of the envelope and of details' own members repeat from entry to entry: each thread keeps them,
    // with their details. path, so that reading one allocates nothing. Bounded: names over MaxNameLength characters, or
    // met once the cache holds MaxNames, are allocated as before.
    private sealed class Names
    {
        private const int MaxNames = 4096;
        private const int MaxNameLength = 128;

        [ThreadStatic]
        private static Names? _current;

        private readonly Dictionary<string, (string Name, string DetailsPath)> _names = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (string Name, string DetailsPath)>.AlternateLookup<ReadOnlySpan<char>> _lookup;

        private Names() => _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();

        public static (string Name, string DetailsPath) Get(ref Utf8JsonReader reader)
        {
            var names = _current ??= new Names();
            var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
            if (length > MaxNameLength)
            {
                return Make(reader.GetString()!);
            }

            Span<char> buffer = stackalloc char[MaxNameLength];
            var written = reader.CopyString(buffer);
            var chars = buffer[..written];
            if (names._lookup.TryGetValue(chars, out var known))
            {
                return known;
            }

            var made = Make(chars.ToString());
            if (names._names.Count < MaxNames)
            {
                names._names[made.Name] = made;
            }

            return made;
        }

        private static (string Name, string DetailsPath) Make(string name) => (name, DetailsName + "." + name);
    }

    // The most fields and details members an entry had on this thread: new entries' dictionaries start that big, so
    // that a request.admitted entry (forty-odd fields with its policy) does not grow its dictionaries four times over.
    // Bounded, so that one entry with a thousand fields does not make every later one start with room for a thousand.
    private static class Sizes
    {
        private const int MaxPresized = 96;

        [ThreadStatic]
        private static int _fields;

        [ThreadStatic]
        private static int _details;

        public static int Fields => _fields;

        public static int Details => _details;

        public static void Saw(ParseState state)
        {
            _fields = Math.Max(_fields, Math.Min(state.Fields.Count, MaxPresized));
            _details = Math.Max(_details, Math.Min(state.Details?.Count ?? 0, MaxPresized));
        }
    }

    private sealed class ParseState
    {
        public string? Type { get; set; }

        public string? TimeText { get; set; }

        public string? Actor { get; set; }

        public string? Subject { get; set; }

        public Dictionary<string, string>? Details { get; set; }

        public Dictionary<string, IReadOnlyList<string?>> Fields { get; } = new(Sizes.Fields, StringComparer.Ordinal);

        public string? SigmaError { get; private set; }

        public void AddSigma(string name, string? value)
        {
            if (SigmaError is not null)
            {
                return;
            }

            if (!Fields.TryGetValue(name, out var values))
            {
                if (Fields.Count >= SigmaEvent.MaxAuditFields)
                {
                    SigmaError = $"audit event has more than {SigmaEvent.MaxAuditFields} fields";
                    return;
                }

                // Most fields hold one value: a one-item array, made a list only when a second value comes.
                Fields[name] = new[] { value };
                return;
            }

            if (values.Count >= SigmaEvent.MaxValuesPerField)
            {
                SigmaError = $"audit event field {name} has more than {SigmaEvent.MaxValuesPerField} values";
                return;
            }

            if (values is not List<string?> list)
            {
                Fields[name] = list = new List<string?>(values);
            }

            list.Add(value);
        }

        public void AddInsider(string? name, string value)
        {
            if (Details!.Count < InsiderEvent.MaxDetails)
            {
                Details[name ?? string.Empty] = value;
            }
        }
    }
}
