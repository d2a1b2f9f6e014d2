using Enclave.Core;
using Enclave.Core.Onnx;

namespace Enclave.Airlock.Scanners;

/// <summary>
/// Walks an ONNX <c>ModelProto</c> by protobuf field number, streaming and bounded (tensor data is skipped,
/// never read): every tensor's external-data <c>location</c> must stay inside the model's folder, and every
/// operator-set and node domain must be a standard one (no custom-op domains).
/// </summary>
/// <remarks>
/// The fields are read with the enclave's one ONNX protobuf reader (<see cref="OnnxProtobufReader"/>, in Core), which
/// the task detector and the engine's external-data validator use too.
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
        catch (EnclaveFormatException e)
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
        private readonly OnnxProtobufReader _reader = new(file, options.MaxProtobufFields);
        private readonly string _modelDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        private bool _lastEntryWasLocation;

        public long Position => _reader.Position;

        public (int Graphs, int Opsets) WalkModel()
        {
            var graphs = 0;
            var opsets = 0;
            Walk(Kind.Model, _reader.Length, 0, (field, _) =>
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
                throw new EnclaveFormatException($"messages nested deeper than {options.MaxProtobufDepth}");
            }

            string? domain = null;
            string? key = null;
            string? value = null;
            var locations = 0;
            long dataLocation = 0;

            while (_reader.Position < end)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (field, wire) = _reader.ReadTag(end);
                switch (wire)
                {
                    case ProtobufWireType.Varint:
                        var number = _reader.ReadVarint(end);
                        if (kind == Kind.Tensor && field == 14)
                        {
                            dataLocation = (long)Math.Min(number, long.MaxValue);
                        }

                        break;
                    case ProtobufWireType.LengthDelimited:
                        var childEnd = _reader.ReadLength(end);
                        var child = Child(kind, field);
                        if (child is { } childKind)
                        {
                            onChild?.Invoke(field, childKind);
                            Walk(childKind, childEnd, depth + 1);
                            if (childKind == Kind.StringEntry && _lastEntryWasLocation)
                            {
                                locations++;
                            }

                            _reader.ExpectEnd(childEnd);
                        }
                        else if (IsWantedString(kind, field))
                        {
                            var text = _reader.ReadString(childEnd, options.MaxStringBytes, strictUtf8: true);
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
                            _reader.SkipTo(childEnd);
                        }

                        break;
                    default:
                        _reader.Skip(wire, end);
                        break;
                }
            }

            _reader.ExpectEnd(end);

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

        private static string Printable(string text) =>
            string.Concat(text.Take(200).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
