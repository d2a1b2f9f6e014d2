namespace Enclave.Airlock.Scanners;

/// <summary>Bounds for the content scanners; every loop and allocation driven by file content has one.</summary>
public sealed record ContentScanOptions
{
    /// <summary>Largest pickle stream walked (a plain pickle file or one zip entry).</summary>
    public long MaxPickleBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>Opcodes walked in one pickle file.</summary>
    public long MaxPickleOpcodes { get; init; } = 100_000_000;

    /// <summary>Depth of the simulated pickle stack and memo entries kept.</summary>
    public int MaxPickleStack { get; init; } = 1_000_000;

    /// <summary>Entries in a zip-based PyTorch file.</summary>
    public int MaxZipEntries { get; init; } = 100_000;

    /// <summary>Nesting of ONNX messages (graphs inside attributes inside nodes).</summary>
    public int MaxProtobufDepth { get; init; } = 64;

    /// <summary>Protobuf fields walked in one ONNX file.</summary>
    public long MaxProtobufFields { get; init; } = 100_000_000;

    /// <summary>Length of a string read from a model header (domains, keys, locations, names).</summary>
    public int MaxStringBytes { get; init; } = 64 * 1024;

    /// <summary>Largest safetensors JSON header (the reference implementation allows 100 MB).</summary>
    public long MaxSafetensorsHeaderBytes { get; init; } = 100L * 1024 * 1024;

    /// <summary>Tensors in one safetensors or GGUF file.</summary>
    public long MaxTensors { get; init; } = 1_000_000;

    /// <summary>Key-value pairs in one GGUF header.</summary>
    public long MaxGgufKeyValues { get; init; } = 1_000_000;

    /// <summary>Elements in one GGUF array value (a tokenizer vocabulary is a few hundred thousand).</summary>
    public long MaxGgufArrayElements { get; init; } = 16_000_000;

    /// <summary>Length of one GGUF string value (chat templates can be tens of kilobytes).</summary>
    public long MaxGgufStringBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>ONNX operator-set domains allowed; anything else is a custom-op domain and is refused.</summary>
    public IReadOnlyList<string> AllowedOnnxDomains { get; init; } = ["", "ai.onnx", "ai.onnx.ml", "com.microsoft"];

    /// <summary>The default bounds.</summary>
    public static ContentScanOptions Default { get; } = new();
}
