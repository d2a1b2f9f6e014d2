using System.Globalization;
using Enclave.Core;
using Enclave.Core.Onnx;

namespace Enclave.Inference.Onnx;

/// <summary>
/// Reads an ONNX <c>ModelProto</c> as a stream of protobuf fields, without loading it into memory, and checks every
/// tensor that keeps its data outside the file (<c>external_data</c> / <c>data_location = EXTERNAL</c>): initializers,
/// sparse initializers, node attribute tensors, and those of subgraphs, functions and training graphs. A location must
/// be a relative path that stays inside the model folder, names a regular file reached through no link, and
/// <c>offset + length</c> must lie inside that file. Runs before ONNX Runtime sees the model. The fields are read with
/// the enclave's one ONNX protobuf reader (<see cref="OnnxProtobufReader"/>, in Core), as the airlock's scanner reads them.
/// </summary>
internal static class OnnxExternalDataValidator
{
    private const int MaxDepth = 64;
    private const int MaxStringBytes = 64 * 1024;
    private const int MaxProblems = 32;

    public static IReadOnlyList<ModelProblem> Validate(string modelPath, string modelDirectory)
    {
        var problems = new List<ModelProblem>();
        try
        {
            using var file = new FileStream(modelPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var walker = new Walker(file, Path.GetFullPath(modelDirectory), problems);
            walker.Model(file.Length);
        }
        catch (EnclaveFormatException e)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MalformedOnnx, $"{Path.GetFileName(modelPath)} is not a valid ONNX model: {e.Message}"));
        }
        catch (IOException e)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MissingFile, $"{Path.GetFileName(modelPath)} could not be read: {e.Message}"));
        }

        return problems;
    }

    private sealed class Walker(Stream stream, string directory, List<ModelProblem> problems)
    {
        private const ProtobufWireType Delimited = ProtobufWireType.LengthDelimited;
        private readonly OnnxProtobufReader _reader = new(stream);
        private int _depth;

        public void Model(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                switch (field)
                {
                    case 7 when wire == Delimited: Nested(end, Graph); break; // graph
                    case 20 when wire == Delimited: Nested(end, TrainingInfo); break; // training_info
                    case 25 when wire == Delimited: Nested(end, Function); break; // functions
                    default: Skip(wire, end); break;
                }
            }
        }

        private void TrainingInfo(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                if (field is 1 or 2 && wire == Delimited)
                {
                    Nested(end, Graph); // initialization, algorithm
                }
                else
                {
                    Skip(wire, end);
                }
            }
        }

        private void Function(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                if (field == 7 && wire == Delimited)
                {
                    Nested(end, Node); // FunctionProto.node
                }
                else
                {
                    Skip(wire, end);
                }
            }
        }

        private void Graph(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                switch (field)
                {
                    case 1 when wire == Delimited: Nested(end, Node); break; // node
                    case 5 when wire == Delimited: Nested(end, Tensor); break; // initializer
                    case 15 when wire == Delimited: Nested(end, Sparse); break; // sparse_initializer
                    default: Skip(wire, end); break;
                }
            }
        }

        private void Node(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                if (field == 5 && wire == Delimited)
                {
                    Nested(end, Attribute);
                }
                else
                {
                    Skip(wire, end);
                }
            }
        }

        private void Attribute(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                switch (field)
                {
                    case 5 or 10 when wire == Delimited: Nested(end, Tensor); break; // t, tensors
                    case 6 or 11 when wire == Delimited: Nested(end, Graph); break; // g, graphs
                    case 22 or 23 when wire == Delimited: Nested(end, Sparse); break; // sparse_tensor(s)
                    default: Skip(wire, end); break;
                }
            }
        }

        private void Sparse(long end)
        {
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                if (field is 1 or 2 && wire == Delimited)
                {
                    Nested(end, Tensor); // values, indices
                }
                else
                {
                    Skip(wire, end);
                }
            }
        }

        private void Tensor(long end)
        {
            string? name = null;
            var external = false;
            var entries = new List<(string Key, string Value)>();
            while (stream.Position < end)
            {
                var (field, wire) = Tag(end);
                switch (field)
                {
                    case 8 when wire == Delimited: name = String(end); break; // name
                    case 14 when wire == ProtobufWireType.Varint: external = _reader.ReadVarint(end) == 1; break; // data_location
                    case 13 when wire == Delimited:
                        var entryEnd = Length(end);
                        string? key = null, value = null;
                        while (stream.Position < entryEnd)
                        {
                            var (entryField, entryWire) = Tag(entryEnd);
                            if (entryField is 1 or 2 && entryWire == Delimited)
                            {
                                var text = String(entryEnd);
                                if (entryField == 1)
                                {
                                    key = text;
                                }
                                else
                                {
                                    value = text;
                                }
                            }
                            else
                            {
                                Skip(entryWire, entryEnd);
                            }
                        }

                        entries.Add((key ?? string.Empty, value ?? string.Empty));
                        break;
                    default: Skip(wire, end); break;
                }
            }

            if (external || entries.Count > 0)
            {
                Check(name ?? "(unnamed)", entries);
            }
        }

        private void Check(string tensor, List<(string Key, string Value)> entries)
        {
            string? location = null;
            long offset = 0;
            long? length = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (key, value) in entries)
            {
                if (!seen.Add(key))
                {
                    Problem($"tensor '{tensor}' repeats the external data key '{key}'");
                    return;
                }

                switch (key)
                {
                    case "location": location = value; break;
                    case "offset" when !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out offset):
                        Problem($"tensor '{tensor}' has an external data offset that is not a non-negative integer: '{value}'");
                        return;
                    case "length":
                        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                        {
                            Problem($"tensor '{tensor}' has an external data length that is not a non-negative integer: '{value}'");
                            return;
                        }

                        length = parsed;
                        break;
                }
            }

            if (string.IsNullOrEmpty(location))
            {
                Problem($"tensor '{tensor}' keeps its data externally but names no location");
                return;
            }

            var resolved = Resolve(tensor, location);
            if (resolved is null)
            {
                return;
            }

            var size = new FileInfo(resolved).Length;
            if (offset > size || (length is { } l && l > size - offset))
            {
                Problem($"tensor '{tensor}' reads bytes {offset}..{offset + (length ?? 0)} of '{location}', which has only {size} bytes");
            }
        }

        /// <summary>The full path of <paramref name="location"/> if it is safe, else null with a problem recorded.</summary>
        private string? Resolve(string tensor, string location)
        {
            if (location.Contains('\0', StringComparison.Ordinal) || Path.IsPathRooted(location) || location.StartsWith('/') || location.StartsWith('\\')
                || location.Split('/', '\\').Any(segment => segment == ".."))
            {
                Problem($"tensor '{tensor}' refers to external data '{location}' outside the model folder (absolute paths and '..' are refused)");
                return null;
            }

            var full = Path.GetFullPath(Path.Combine(directory, location));
            var root = directory.EndsWith(Path.DirectorySeparatorChar) ? directory : directory + Path.DirectorySeparatorChar;
            if (!full.StartsWith(root, StringComparison.Ordinal))
            {
                Problem($"tensor '{tensor}' refers to external data '{location}' outside the model folder");
                return null;
            }

            // Every component below the model folder must be a real directory or file, not a link out of it.
            var current = directory;
            foreach (var segment in full[root.Length..].Split(Path.DirectorySeparatorChar))
            {
                current = Path.Combine(current, segment);
                var info = new FileInfo(current);
                if (info.LinkTarget is not null)
                {
                    Problem($"tensor '{tensor}' reaches its external data '{location}' through a link; links are refused");
                    return null;
                }
            }

            if (!File.Exists(full))
            {
                Problem($"tensor '{tensor}' refers to external data '{location}', which is not a file in the model folder");
                return null;
            }

            return full;
        }

        private void Problem(string detail)
        {
            if (problems.Count < MaxProblems)
            {
                problems.Add(new ModelProblem(ModelRejectionReason.UnsafeExternalData, detail));
            }
        }

        private void Nested(long parentEnd, Action<long> read)
        {
            var end = Length(parentEnd);
            if (++_depth > MaxDepth)
            {
                throw new EnclaveFormatException($"messages nested deeper than {MaxDepth} levels");
            }

            read(end);
            _depth--;
            _reader.ExpectEnd(end);
        }

        private (int Field, ProtobufWireType Wire) Tag(long end) => _reader.ReadTag(end);

        private long Length(long end) => _reader.ReadLength(end);

        private string String(long end) => _reader.ReadString(_reader.ReadLength(end), MaxStringBytes, strictUtf8: false);

        private void Skip(ProtobufWireType wire, long end) => _reader.Skip(wire, end);
    }
}
