using System.Text;

namespace Enclave.Airlock.Scanners;

/// <summary>
/// Walks an ONNX <c>ModelProto</c> by protobuf field number, streaming and bounded (tensor data is skipped,
/// never read): every tensor's external-data <c>location</c> must stay inside the model's folder, and every
/// operator-set and node domain must be a standard one (no custom-op domains).
/// </summary>
/// <remarks>
/// Google.Protobuf is not referenced by this assembly and would want whole messages in memory; a minimal
/// walker over varint and length-delimited fields is enough to reach the fields that matter.
/// </remarks>
public sealed class OnnxScanner : IContentScanner
{
    private readonly ContentScanOptions _options;

    public OnnxScanner(ContentScanOptions? options = null) => _options = options ?? ContentScanOptions.Default;

    private enum Kind
    {
        Model,
        Graph,
        Node,
        Attribute,
        Tensor,
        SparseTensor,
        StringEntry,
        OperatorSet,
        Function,
        TrainingInfo,
    }

    /// <inheritdoc/>
    public string Name => "onnx";

    /// <inheritdoc/>
    public bool Applies(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase);
    }

    /// <inheritdoc/>
    public ScanResult Scan(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var findings = new List<string>();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
        var walker = new Walker(file, _options, path, findings, cancellationToken);
        try
        {
            var (graphs, opsets) = walker.WalkModel();
            if (graphs != 1)
            {
                findings.Add($"{path}: the model has {graphs} graphs instead of one; not an ONNX model, refused");
            }

            if (opsets == 0)
            {
                findings.Add($"{path}: the model imports no operator set; not a valid ONNX model, refused");
            }
        }
        catch (ScanFormatException e)
        {
            findings.Add($"{path}: malformed ONNX protobuf at byte {walker.Position}: {e.Message}; refused");
        }

        return ScanResult.Of(Name, path, findings);
    }

    /// <summary>Whether an external-data location is a plain relative path that stays inside the model folder.</summary>
    public static bool IsSafeLocation(string location, string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(modelDirectory);
        if (location.Length == 0 || location.Contains('\0', StringComparison.Ordinal) || Path.IsPathRooted(location)
            || location.StartsWith('/') || location.StartsWith('\\') || (location.Length >= 2 && location[1] == ':'))
        {
            return false;
        }

        foreach (var segment in location.Split('/', '\\'))
        {
            if (segment == "..")
            {
                return false;
            }
        }

        var root = Path.GetFullPath(modelDirectory).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(Path.Combine(root, location.Replace('\\', '/')));
        return full.StartsWith(root, StringComparison.Ordinal);
    }

    private sealed class Walker(FileStream file, ContentScanOptions options, string path, List<string> findings, CancellationToken cancellationToken)
    {
        private static readonly UTF8Encoding StrictUtf8 = new(false, true);
        private readonly string _modelDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        private long _fields;
        private bool _lastEntryWasLocation;

        public long Position => file.Position;

        public (int Graphs, int Opsets) WalkModel()
        {
            var graphs = 0;
            var opsets = 0;
            Walk(Kind.Model, file.Length, 0, (field, _) =>
            {
                graphs += field == 7 ? 1 : 0;
                opsets += field == 8 ? 1 : 0;
            });
            return (graphs, opsets);
        }

        private void Walk(Kind kind, long end, int depth, Action<int, Kind>? onChild = null)
        {
            if (depth > options.MaxProtobufDepth)
            {
                throw new ScanFormatException($"messages nested deeper than {options.MaxProtobufDepth}");
            }

            string? domain = null;
            string? key = null;
            string? value = null;
            var locations = 0;
            long dataLocation = 0;

            while (file.Position < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (++_fields > options.MaxProtobufFields)
                {
                    throw new ScanFormatException($"more than {options.MaxProtobufFields} fields");
                }

                var tag = ReadVarint(end);
                var field = tag >> 3;
                if (field == 0 || field > int.MaxValue)
                {
                    throw new ScanFormatException("field number out of range");
                }

                switch (tag & 7)
                {
                    case 0:
                        var number = ReadVarint(end);
                        if (kind == Kind.Tensor && field == 14)
                        {
                            dataLocation = (long)Math.Min(number, long.MaxValue);
                        }

                        break;
                    case 1:
                        SkipTo(end, 8);
                        break;
                    case 5:
                        SkipTo(end, 4);
                        break;
                    case 2:
                        var length = ReadVarint(end);
                        if (length > (ulong)(end - file.Position))
                        {
                            throw new ScanFormatException($"a length of {length} runs past its message");
                        }

                        var childEnd = file.Position + (long)length;
                        var child = Child(kind, (int)field);
                        if (child is { } childKind)
                        {
                            onChild?.Invoke((int)field, childKind);
                            Walk(childKind, childEnd, depth + 1);
                            if (childKind == Kind.StringEntry && _lastEntryWasLocation)
                            {
                                locations++;
                            }

                            if (file.Position != childEnd)
                            {
                                throw new ScanFormatException("a message overruns its length");
                            }
                        }
                        else if (IsWantedString(kind, (int)field))
                        {
                            var text = ReadString(length);
                            switch (kind)
                            {
                                case Kind.OperatorSet or Kind.Node:
                                    domain = text;
                                    break;
                                case Kind.StringEntry when field == 1:
                                    key = text;
                                    break;
                                default:
                                    value = text;
                                    break;
                            }
                        }
                        else
                        {
                            file.Position = childEnd;
                        }

                        break;
                    default:
                        throw new ScanFormatException($"unsupported wire type {tag & 7}");
                }
            }

            if (file.Position != end)
            {
                throw new ScanFormatException("a field overruns its message");
            }

            switch (kind)
            {
                case Kind.OperatorSet:
                    CheckDomain(domain ?? string.Empty, "opset_import");
                    break;
                case Kind.Node:
                    CheckDomain(domain ?? string.Empty, "node");
                    break;
                case Kind.StringEntry:
                    _lastEntryWasLocation = key == "location";
                    if (_lastEntryWasLocation && !IsSafeLocation(value ?? string.Empty, _modelDirectory))
                    {
                        findings.Add($"{path}: tensor external data location '{Printable(value ?? string.Empty)}' leaves the model folder (absolute or '..'); refused");
                    }

                    break;
                case Kind.Tensor:
                    if (locations > 1)
                    {
                        findings.Add($"{path}: a tensor names its external data location {locations} times; refused");
                    }
                    else if (dataLocation == 1 && locations == 0)
                    {
                        findings.Add($"{path}: a tensor stored externally names no location; refused");
                    }

                    break;
            }
        }

        private void CheckDomain(string domain, string where)
        {
            if (!options.AllowedOnnxDomains.Contains(domain, StringComparer.Ordinal))
            {
                findings.Add($"{path}: {where} uses custom-op domain '{Printable(domain)}', which needs a custom-op library; allowed domains are {string.Join(", ", options.AllowedOnnxDomains.Select(d => $"'{d}'"))}; refused");
            }
        }

        private static Kind? Child(Kind kind, int field) => (kind, field) switch
        {
            (Kind.Model, 7) => Kind.Graph,
            (Kind.Model, 8) => Kind.OperatorSet,
            (Kind.Model, 20) => Kind.TrainingInfo,
            (Kind.Model, 25) => Kind.Function,
            (Kind.Graph, 1) => Kind.Node,
            (Kind.Graph, 5) => Kind.Tensor,
            (Kind.Graph, 15) => Kind.SparseTensor,
            (Kind.Node, 5) => Kind.Attribute,
            (Kind.Attribute, 5) => Kind.Tensor,
            (Kind.Attribute, 6) => Kind.Graph,
            (Kind.Attribute, 10) => Kind.Tensor, // tensors
            (Kind.Attribute, 11) => Kind.Graph, // graphs
            (Kind.Attribute, 22) => Kind.SparseTensor,
            (Kind.Attribute, 23) => Kind.SparseTensor,
            (Kind.Tensor, 13) => Kind.StringEntry,
            (Kind.SparseTensor, 1) => Kind.Tensor,
            (Kind.SparseTensor, 2) => Kind.Tensor,
            (Kind.Function, 7) => Kind.Node,
            (Kind.Function, 9) => Kind.OperatorSet,
            (Kind.TrainingInfo, 1) => Kind.Graph,
            (Kind.TrainingInfo, 3) => Kind.Graph,
            _ => null,
        };

        private static bool IsWantedString(Kind kind, int field) => (kind, field) switch
        {
            (Kind.OperatorSet, 1) => true,
            (Kind.Node, 7) => true,
            (Kind.StringEntry, 1 or 2) => true,
            _ => false,
        };

        private ulong ReadVarint(long end)
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                if (file.Position >= end)
                {
                    throw new ScanFormatException("a varint runs past its message");
                }

                var b = file.ReadByte();
                if (b < 0)
                {
                    throw new ScanFormatException("ends inside a varint");
                }

                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return result;
                }
            }

            throw new ScanFormatException("a varint is longer than 10 bytes");
        }

        private void SkipTo(long end, int count)
        {
            if (end - file.Position < count)
            {
                throw new ScanFormatException("a fixed-width field runs past its message");
            }

            file.Position += count;
        }

        private string ReadString(ulong length)
        {
            if (length > (ulong)options.MaxStringBytes)
            {
                throw new ScanFormatException($"a string of {length} bytes exceeds the limit of {options.MaxStringBytes}");
            }

            var bytes = new byte[length];
            file.ReadExactly(bytes);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new ScanFormatException("a string is not valid UTF-8");
            }
        }

        private static string Printable(string text) =>
            string.Concat(text.Take(200).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
