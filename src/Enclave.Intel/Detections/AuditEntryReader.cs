using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Enclave.Intel.Insider;
using Enclave.Intel.Sigma;

namespace Enclave.Intel.Detections;

/// <summary>
/// Reads ledger entries one after another for one consumer that says which fields it reads: the same
/// <see cref="AuditEntryView"/> as <see cref="AuditEntryView.Parse"/> (the same refusals, envelope, time, log source and
/// Sigma limits), except that the Sigma fields and insider details the consumer does not read are left out and their
/// values never become strings, and that the view's dictionaries are this reader's own, reused: a view holds until
/// the next <see cref="Read"/>. The live detections read with the fields their loaded rules name
/// (<see cref="SigmaRuleSet.FieldsRead"/>) and the details the insider engine reads
/// (<see cref="InsiderEngine.DetailsRead"/>), so an entry costs a few strings instead of one per value.
/// </summary>
/// <remarks>
/// An entry the selection could make read differently is read by <see cref="AuditEntryView.Parse"/> instead: one with
/// more values than the Sigma or insider limits (<see cref="SigmaEvent.MaxAuditFields"/>,
/// <see cref="SigmaEvent.MaxValuesPerField"/>, <see cref="InsiderEvent.MaxDetails"/>), where which values are kept or
/// whether the Sigma view exists depends on every field, and one with two <c>details</c> objects. Strings left unread
/// are still checked as <see cref="AuditEntryView.Parse"/> checks them (valid UTF-8, escapes). Not thread-safe.
/// </remarks>
public sealed class AuditEntryReader
{
    /// <summary><see cref="AuditEntryView.SigmaError"/> of a reader made without the Sigma view.</summary>
    public const string SigmaNotRead = "not read: the reader was made without the Sigma view";

    private const int MaxCached = 4096;
    private const int MaxKeptFields = 256;
    private const int InsiderRoot = -1;
    private const int NotInsider = -2;

    // Up to this many values no Sigma limit can be reached, whatever their names.
    private const int MaxSigmaValues = SigmaEvent.MaxAuditFields < SigmaEvent.MaxValuesPerField ? SigmaEvent.MaxAuditFields : SigmaEvent.MaxValuesPerField;

    private readonly bool _sigma;
    private readonly Names _sigmaFields;
    private readonly Names _insiderDetails;
    private readonly Names _types = new(null);
    private readonly Dictionary<string, SigmaLogSource> _sources = new(StringComparer.Ordinal);
    private Dictionary<string, IReadOnlyList<string?>> _fields = new(StringComparer.Ordinal);
    private Dictionary<string, string> _details = new(StringComparer.Ordinal);
    private char[] _sigmaPath = new char[128];
    private char[] _insiderPath = new char[128];
    private char[] _scratch = new char[64];
    private string? _lastActor;
    private string? _lastSubject;

    // The entry being read.
    private string? _type;
    private bool _timeSet;
    private bool _timeValid;
    private DateTimeOffset _time;
    private string? _actor;
    private string? _subject;
    private bool _detailsSeen;
    private bool _readExactly;
    private int _sigmaValues;
    private int _insiderValues;

    /// <summary>
    /// A reader that gives the Sigma view when <paramref name="sigma"/> (with the fields <paramref name="sigmaFields"/>
    /// names, every field when null) and the insider view with the details <paramref name="insiderDetails"/> names
    /// (every detail when null).
    /// </summary>
    public AuditEntryReader(bool sigma, IEnumerable<string>? sigmaFields, IEnumerable<string>? insiderDetails)
    {
        _sigma = sigma;
        _sigmaFields = new Names(sigma ? sigmaFields : []);
        _insiderDetails = new Names(insiderDetails);
    }

    /// <summary>
    /// Reads one canonical ledger entry; throws <see cref="FormatException"/> where <see cref="AuditEntryView.Parse"/>
    /// does. The view (its details and fields) holds until the next call.
    /// </summary>
    public AuditEntryView Read(ReadOnlySpan<byte> json, long? position = null)
    {
        Reset();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = InsiderEvent.MaxDepth });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new FormatException("not an audit event: the JSON is not an object");
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                Reserve(ref _sigmaPath, reader.ValueSpan.Length);
                var nameLength = reader.CopyString(_sigmaPath);
                reader.Read();
                ReadRootMember(ref reader, nameLength);
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

        if (_readExactly || (_sigma && _sigmaValues > MaxSigmaValues) || _insiderValues > InsiderEvent.MaxDetails)
        {
            return AuditEntryView.Parse(json, position);
        }

        if (_type is null || !_timeSet || !_timeValid)
        {
            throw new FormatException("not an audit event: it needs a \"type\" string and an RFC 3339 \"time\"");
        }

        var insider = new InsiderEvent
        {
            Type = _type,
            Time = _time,
            Actor = _actor ?? string.Empty,
            Subject = _subject ?? string.Empty,
            Details = _detailsSeen ? _details : InsiderEvent.NoDetails,
        };
        if (!_sigma)
        {
            return new AuditEntryView(insider, null, SigmaNotRead);
        }

        if (_type.Length == 0)
        {
            return new AuditEntryView(insider, null, "not an audit event: no \"type\" string");
        }

        return new AuditEntryView(insider, new SigmaEvent(_time, Source(_type), _fields, position), null);
    }

    private void Reset()
    {
        // Reused, unless the last entry made them large: one wide entry does not keep its room for every later one.
        if (_fields.Count > MaxKeptFields)
        {
            _fields = new Dictionary<string, IReadOnlyList<string?>>(StringComparer.Ordinal);
        }
        else
        {
            _fields.Clear();
        }

        if (_details.Count > MaxKeptFields)
        {
            _details = new Dictionary<string, string>(StringComparer.Ordinal);
        }
        else
        {
            _details.Clear();
        }

        _type = null;
        _timeSet = false;
        _timeValid = false;
        _time = default;
        _actor = null;
        _subject = null;
        _detailsSeen = false;
        _readExactly = false;
        _sigmaValues = 0;
        _insiderValues = 0;
    }

    private void ReadRootMember(ref Utf8JsonReader reader, int nameLength)
    {
        var name = _sigmaPath.AsSpan(0, nameLength);
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                string? text = null;
                var isChecked = true;
                if (name is "type")
                {
                    _type = text = _types.Find(Chars(ref reader));
                }
                else if (name is "time")
                {
                    _timeSet = true;
                    _timeValid = DateTimeOffset.TryParse(Chars(ref reader), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out _time);
                }
                else if (name is "actor")
                {
                    _actor = text = Remember(ref reader, ref _lastActor);
                }
                else if (name is "subject")
                {
                    _subject = text = Remember(ref reader, ref _lastSubject);
                }
                else
                {
                    isChecked = false;
                }

                _sigmaValues++;
                if (_sigmaFields.Find(name) is { } field)
                {
                    AddSigma(field, text ?? reader.GetString());
                }
                else if (!isChecked)
                {
                    Check(ref reader);
                }

                return;
            case JsonTokenType.StartObject when name is "details":
                // A second details object replaces the first for the insider view: read such an entry exactly.
                _readExactly |= _detailsSeen;
                _detailsSeen = true;
                ReadValue(ref reader, nameLength, InsiderRoot);
                return;
            default:
                // A root member that is not a string: the envelope field it would have been is absent.
                if (name is "type")
                {
                    _type = null;
                }
                else if (name is "time")
                {
                    _timeSet = false;
                }
                else if (name is "actor")
                {
                    _actor = null;
                }
                else if (name is "subject")
                {
                    _subject = null;
                }

                ReadValue(ref reader, nameLength, NotInsider);
                return;
        }
    }

    // Walks one value with its Sigma name (_sigmaPath[..sigmaLength]: object keys joined with dots, array items under
    // the array's name) and its insider name (_insiderPath[..insiderLength] under details: keys joined with dots, array
    // items by index; InsiderRoot for details itself, NotInsider elsewhere), as AuditEntryView.Parse names them.
    private void ReadValue(ref Utf8JsonReader reader, int sigmaLength, int insiderLength)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var keyStart = sigmaLength + 1;
                    Reserve(ref _sigmaPath, keyStart + reader.ValueSpan.Length);
                    _sigmaPath[sigmaLength] = '.';
                    var keyLength = reader.CopyString(_sigmaPath.AsSpan(keyStart));
                    var childInsider = NotInsider;
                    if (insiderLength != NotInsider)
                    {
                        var start = insiderLength == InsiderRoot ? 0 : insiderLength + 1;
                        Reserve(ref _insiderPath, start + keyLength);
                        if (insiderLength != InsiderRoot)
                        {
                            _insiderPath[insiderLength] = '.';
                        }

                        _sigmaPath.AsSpan(keyStart, keyLength).CopyTo(_insiderPath.AsSpan(start));
                        childInsider = start + keyLength;
                    }

                    reader.Read();
                    ReadValue(ref reader, keyStart + keyLength, childInsider);
                }

                break;
            case JsonTokenType.StartArray:
                var i = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    var childInsider = NotInsider;
                    if (insiderLength != NotInsider)
                    {
                        var start = insiderLength == InsiderRoot ? 0 : insiderLength;
                        Reserve(ref _insiderPath, start + 12);
                        _insiderPath[start] = '.';
                        i.TryFormat(_insiderPath.AsSpan(start + 1), out var digits, default, CultureInfo.InvariantCulture);
                        childInsider = start + 1 + digits;
                    }

                    ReadValue(ref reader, sigmaLength, childInsider);
                    i++;
                }

                break;
            default:
                ReadScalar(ref reader, sigmaLength, insiderLength);
                break;
        }
    }

    private void ReadScalar(ref Utf8JsonReader reader, int sigmaLength, int insiderLength)
    {
        _sigmaValues++;
        var sigmaName = _sigmaFields.Find(_sigmaPath.AsSpan(0, sigmaLength));
        string? insiderName = null;
        if (insiderLength != NotInsider && reader.TokenType != JsonTokenType.Null)
        {
            _insiderValues++;
            insiderName = _insiderDetails.Find(insiderLength == InsiderRoot ? ReadOnlySpan<char>.Empty : _insiderPath.AsSpan(0, insiderLength));
        }

        if (sigmaName is null && insiderName is null)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                Check(ref reader);
            }

            return;
        }

        var value = reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Null => null,
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            _ => Encoding.UTF8.GetString(reader.ValueSpan),
        };
        if (sigmaName is not null)
        {
            AddSigma(sigmaName, value);
        }

        if (insiderName is not null)
        {
            _details[insiderName] = value!;
        }
    }

    private void AddSigma(string name, string? value)
    {
        if (!_fields.TryGetValue(name, out var values))
        {
            // Most fields hold one value: a one-item array, made a list only when a second value comes.
            _fields[name] = new[] { value };
            return;
        }

        if (values is not List<string?> list)
        {
            _fields[name] = list = new List<string?>(values);
        }

        list.Add(value);
    }

    // A string value not read: checked as reading it would check it (GetString refuses invalid UTF-8 and bad escapes).
    private void Check(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            Chars(ref reader);
        }
        else if (!Utf8.IsValid(reader.ValueSpan))
        {
            throw new FormatException("not an audit event: a string is not valid UTF-8");
        }
    }

    // The string value as characters in the scratch buffer (valid until the next call).
    private ReadOnlySpan<char> Chars(ref Utf8JsonReader reader)
    {
        Reserve(ref _scratch, reader.ValueSpan.Length);
        return _scratch.AsSpan(0, reader.CopyString(_scratch));
    }

    // Actors and subjects repeat from one entry to the next: the last one's string when the value is the same.
    private static string Remember(ref Utf8JsonReader reader, ref string? last)
    {
        if (last is not null && reader.ValueTextEquals(last))
        {
            return last;
        }

        return last = reader.GetString()!;
    }

    private SigmaLogSource Source(string type)
    {
        if (_sources.TryGetValue(type, out var source))
        {
            return source;
        }

        source = new SigmaLogSource { Product = "enclave", Category = SigmaEvent.AuditCategory(type), Service = "audit" };
        if (_sources.Count < MaxCached)
        {
            _sources[type] = source;
        }

        return source;
    }

    // Room for at least `length` characters (a UTF-8 value of n bytes unescapes to at most n characters).
    private static void Reserve(ref char[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            Array.Resize(ref buffer, Math.Max(length, buffer.Length * 2));
        }
    }

    // Names a consumer reads, looked up by their characters (no string made for a name not read); with no list, every
    // name, the first MaxCached of them kept so that names that repeat are made once.
    private sealed class Names
    {
        private readonly HashSet<string> _names;
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly bool _every;
        private readonly bool _none;

        public Names(IEnumerable<string>? names)
        {
            _every = names is null;
            _names = names is null ? new HashSet<string>(StringComparer.Ordinal) : new HashSet<string>(names, StringComparer.Ordinal);
            _none = !_every && _names.Count == 0;
            _lookup = _names.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public string? Find(ReadOnlySpan<char> name)
        {
            if (_none)
            {
                return null;
            }

            if (_lookup.TryGetValue(name, out var known))
            {
                return known;
            }

            if (!_every)
            {
                return null;
            }

            var made = name.ToString();
            if (_names.Count < MaxCached)
            {
                _names.Add(made);
            }

            return made;
        }
    }
}
