using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Enclave.Inference.Forge;

/// <summary>
/// Builds an ONNX <c>ModelProto</c> (IR 8, default-domain opset 17) by field number. Initializers of 1 KiB and more
/// go to an external data file as the ONNX exporters write it (<c>location</c>/<c>offset</c>/<c>length</c>, offsets
/// aligned to 4 KiB so ONNX Runtime can map them); smaller ones stay inline as <c>raw_data</c>.
/// </summary>
internal sealed class OnnxGraphBuilder : IDisposable
{
    public const long IrVersion = 8;
    public const long OpsetVersion = 17;
    public const int ElementFloat = 1;
    public const int ElementInt64 = 7;
    public const int ElementBool = 9;

    private const int InlineThresholdBytes = 1024;
    private const int ExternalAlignment = 4096;

    private readonly List<ProtoMessage> _nodes = [];
    private readonly List<ProtoMessage> _initializers = [];
    private readonly List<ProtoMessage> _inputs = [];
    private readonly List<ProtoMessage> _outputs = [];
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly FileStream _data;
    private readonly string _dataLocation;
    private int _nextName;

    /// <param name="dataPath">The external data file to write.</param>
    /// <param name="dataLocation">The location written into the tensors; the data file's name unless a tamper test says otherwise.</param>
    public OnnxGraphBuilder(string dataPath, string? dataLocation = null)
    {
        _dataLocation = dataLocation ?? Path.GetFileName(dataPath);
        _data = new FileStream(dataPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
    }

    /// <summary>Number of weights written (constants of the graph's plumbing not counted).</summary>
    public long ParameterCount { get; private set; }

    public void Input(string name, int elementType, params OnnxDim[] shape) => _inputs.Add(ValueInfo(name, elementType, shape));

    public void Output(string name, int elementType, params OnnxDim[] shape) => _outputs.Add(ValueInfo(name, elementType, shape));

    /// <summary>Adds a node with one output, named after the operator unless <paramref name="output"/> is given.</summary>
    public string Op(string opType, string[] inputs, string? output = null, params OnnxAttribute[] attributes)
    {
        output ??= string.Create(CultureInfo.InvariantCulture, $"{opType}_{_nextName++}");
        var node = new ProtoMessage();
        foreach (var input in inputs)
        {
            node.String(1, input); // NodeProto.input
        }

        node.String(2, output) // NodeProto.output
            .String(3, output) // NodeProto.name
            .String(4, opType); // NodeProto.op_type
        foreach (var attribute in attributes)
        {
            node.Message(5, attribute.ToProto()); // NodeProto.attribute
        }

        _nodes.Add(node);
        return output;
    }

    /// <summary>A float weight; counted in <see cref="ParameterCount"/>.</summary>
    public string Weight(string name, long[] dims, ReadOnlySpan<float> values)
    {
        ParameterCount += values.Length;
        return FloatTensor(name, dims, values);
    }

    public string ConstInt64s(params long[] values) => Constant(
        "i64:" + string.Join(',', values),
        name => Tensor(name, ElementInt64, [values.Length], Int64Bytes(values)));

    public string ScalarInt64(long value) => Constant(
        "si64:" + value.ToString(CultureInfo.InvariantCulture),
        name => Tensor(name, ElementInt64, [], Int64Bytes([value])));

    public string ScalarFloat(float value) => Constant(
        "sf:" + BitConverter.SingleToInt32Bits(value).ToString(CultureInfo.InvariantCulture),
        name => FloatTensor(name, [], [value]));

    public string ConstFloats(float[] values) => Constant(
        "f:" + string.Join(',', values.Select(v => BitConverter.SingleToInt32Bits(v).ToString(CultureInfo.InvariantCulture))),
        name => FloatTensor(name, [values.Length], values));

    /// <summary>Writes the model file; the external data file is complete after this call.</summary>
    public void Save(string modelPath, string graphName, string docString)
    {
        var graph = new ProtoMessage();
        foreach (var node in _nodes)
        {
            graph.Message(1, node); // GraphProto.node
        }

        graph.String(2, graphName); // GraphProto.name
        foreach (var initializer in _initializers)
        {
            graph.Message(5, initializer); // GraphProto.initializer
        }

        foreach (var input in _inputs)
        {
            graph.Message(11, input); // GraphProto.input
        }

        foreach (var output in _outputs)
        {
            graph.Message(12, output); // GraphProto.output
        }

        var model = new ProtoMessage()
            .Int64(1, IrVersion) // ModelProto.ir_version
            .String(2, "enclave-forge") // ModelProto.producer_name
            .String(3, "1") // ModelProto.producer_version
            .String(6, docString) // ModelProto.doc_string
            .Message(7, graph) // ModelProto.graph
            .Message(8, new ProtoMessage().String(1, string.Empty).Int64(2, OpsetVersion)); // opset_import {domain, version}

        _data.Flush();
        File.WriteAllBytes(modelPath, model.ToArray());
    }

    public void Dispose() => _data.Dispose();

    private string Constant(string key, Action<string> create)
    {
        if (!_constants.TryGetValue(key, out var name))
        {
            name = string.Create(CultureInfo.InvariantCulture, $"const_{_constants.Count}");
            create(name);
            _constants.Add(key, name);
        }

        return name;
    }

    private string FloatTensor(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            }
        }

        Tensor(name, ElementFloat, dims, bytes);
        return name;
    }

    private static byte[] Int64Bytes(long[] values)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        }

        return bytes;
    }

    private void Tensor(string name, int elementType, long[] dims, byte[] littleEndianData)
    {
        var tensor = new ProtoMessage()
            .Int64s(1, dims) // TensorProto.dims
            .Int64(2, elementType) // TensorProto.data_type
            .String(8, name); // TensorProto.name
        if (littleEndianData.Length < InlineThresholdBytes)
        {
            tensor.Bytes(9, littleEndianData); // TensorProto.raw_data
        }
        else
        {
            var offset = (_data.Position + ExternalAlignment - 1) / ExternalAlignment * ExternalAlignment;
            while (_data.Position < offset)
            {
                _data.WriteByte(0);
            }

            _data.Write(littleEndianData);
            tensor.Message(13, Entry("location", _dataLocation)) // TensorProto.external_data
                .Message(13, Entry("offset", offset.ToString(CultureInfo.InvariantCulture)))
                .Message(13, Entry("length", littleEndianData.Length.ToString(CultureInfo.InvariantCulture)))
                .Int64(14, 1); // TensorProto.data_location = EXTERNAL
        }

        _initializers.Add(tensor);
    }

    private static ProtoMessage Entry(string key, string value) => new ProtoMessage().String(1, key).String(2, value);

    private static ProtoMessage ValueInfo(string name, int elementType, OnnxDim[] shape)
    {
        var shapeProto = new ProtoMessage();
        foreach (var dim in shape)
        {
            var dimension = dim.Symbol is { } symbol
                ? new ProtoMessage().String(2, symbol) // Dimension.dim_param
                : new ProtoMessage().Int64(1, dim.Value); // Dimension.dim_value
            shapeProto.Message(1, dimension); // TensorShapeProto.dim
        }

        var tensorType = new ProtoMessage().Int64(1, elementType).Message(2, shapeProto); // TypeProto.Tensor
        return new ProtoMessage()
            .String(1, name) // ValueInfoProto.name
            .Message(2, new ProtoMessage().Message(1, tensorType)); // ValueInfoProto.type {tensor_type}
    }
}

/// <summary>A dimension of a graph input or output: a fixed size or a symbolic name.</summary>
internal readonly record struct OnnxDim(long Value, string? Symbol)
{
    public static implicit operator OnnxDim(long value) => new(value, null);

    public static implicit operator OnnxDim(string symbol) => new(0, symbol);
}

/// <summary>A node attribute (<c>AttributeProto</c>) of type INT, INTS or FLOAT.</summary>
internal readonly record struct OnnxAttribute(string Name, long? Int, long[]? Ints, float? Float)
{
    public static OnnxAttribute Of(string name, long value) => new(name, value, null, null);

    public static OnnxAttribute Of(string name, long[] values) => new(name, null, values, null);

    public static OnnxAttribute Of(string name, float value) => new(name, null, null, value);

    public ProtoMessage ToProto()
    {
        var proto = new ProtoMessage().String(1, Name); // AttributeProto.name
        if (Int is { } i)
        {
            proto.Int64(3, i).Int64(20, 2); // i, type = INT
        }
        else if (Ints is { } ints)
        {
            proto.Int64s(8, ints).Int64(20, 7); // ints, type = INTS
        }
        else if (Float is { } f)
        {
            proto.Float(2, f).Int64(20, 1); // f, type = FLOAT
        }

        return proto;
    }
}
