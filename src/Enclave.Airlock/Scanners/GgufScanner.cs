using System.Buffers.Binary;

namespace Enclave.Airlock.Scanners;

/// <summary>
/// Checks a GGUF header (versions 2 and 3): magic, bounded tensor and key-value counts, bounded strings and
/// arrays, keys and tensor names that appear once, tensor dimensions, and that every tensor lies aligned inside the
/// data section. Keys, tensor names and string values (the chat template, the architecture, ...) must be valid UTF-8;
/// the strings inside arrays (vocabularies, merges) are byte strings to llama.cpp and are only bounded.
/// </summary>
public sealed class GgufScanner : IContentScanner
{
    private const uint Magic = 0x46554747; // "GGUF" little-endian
    private const int MaxDimensions = 4;
    private const int MaxNesting = 3;
    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // ggml type → (block size in elements, bytes per block), for the types whose layout is fixed.
    private static readonly Dictionary<uint, (int Block, int Bytes)> TypeSizes = new()
    {
        [0] = (1, 4), [1] = (1, 2), [2] = (32, 18), [3] = (32, 20), [6] = (32, 22), [7] = (32, 24), [8] = (32, 34),
        [9] = (32, 36), [10] = (256, 84), [11] = (256, 110), [12] = (256, 144), [13] = (256, 176), [14] = (256, 210),
        [15] = (256, 292), [24] = (1, 1), [25] = (1, 2), [26] = (1, 4), [27] = (1, 8), [28] = (1, 8), [30] = (1, 2),
    };

    private readonly ContentScanOptions _options;

    public GgufScanner(ContentScanOptions? options = null) => _options = options ?? ContentScanOptions.Default;

    /// <inheritdoc/>
    public string Name => "gguf";

    /// <inheritdoc/>
    public bool Applies(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Path.GetExtension(path).Equals(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return file.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(magic) == Magic;
    }

    /// <inheritdoc/>
    public ScanResult Scan(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var findings = new List<string>();
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
        try
        {
            new Walker(file, _options, cancellationToken).Run();
        }
        catch (ScanFormatException e)
        {
            findings.Add($"{path}: bad GGUF header at byte {file.Position}: {e.Message}; refused");
        }
        catch (OverflowException)
        {
            findings.Add($"{path}: a GGUF size overflows at byte {file.Position}; refused");
        }

        return ScanResult.Of(Name, path, findings);
    }

    /// <summary>
    /// The metadata that says what a GGUF model is for, read by the same walk as <see cref="Scan"/>:
    /// <c>general.architecture</c>, the architecture's <c>pooling_type</c> (llama.cpp: 0 none, 1 mean, 2 cls, 3 last,
    /// 4 rank) and whether <c>tokenizer.chat_template</c> is present. Null when the header is malformed (the scan
    /// refuses such a file before this is asked).
    /// </summary>
    internal static GgufTaskHints? ReadTaskHints(string path, ContentScanOptions options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);
        var hints = new GgufTaskHints();
        try
        {
            new Walker(file, options, CancellationToken.None, hints).Run();
            return hints;
        }
        catch (Exception e) when (e is ScanFormatException or OverflowException or EndOfStreamException)
        {
            return null;
        }
    }

    private sealed class Walker(FileStream file, ContentScanOptions options, CancellationToken cancellationToken, GgufTaskHints? hints = null)
    {
        private readonly byte[] _scratch = new byte[8];
        private byte[]? _text;
        private string _key = string.Empty;
        private ulong _alignment = 32;

        public void Run()
        {
            if (U32() != Magic)
            {
                throw new ScanFormatException("wrong magic (not a GGUF file)");
            }

            var version = U32();
            if (version is not 2 and not 3)
            {
                throw new ScanFormatException($"unsupported version {version}");
            }

            var tensorCount = U64();
            var kvCount = U64();
            if (tensorCount > (ulong)options.MaxTensors)
            {
                throw new ScanFormatException($"tensor count {tensorCount} exceeds the limit of {options.MaxTensors}");
            }

            if (kvCount > (ulong)options.MaxGgufKeyValues)
            {
                throw new ScanFormatException($"key-value count {kvCount} exceeds the limit of {options.MaxGgufKeyValues}");
            }

            var keys = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < kvCount; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var key = ReadString(65535, "a key");
                _key = key;
                if (!keys.Add(key))
                {
                    throw new ScanFormatException($"key '{key}' appears twice");
                }

                var type = U32();
                if (key == "general.alignment")
                {
                    if (type != 4)
                    {
                        throw new ScanFormatException("general.alignment is not a uint32");
                    }

                    _alignment = U32();
                    if (_alignment == 0 || (_alignment & (_alignment - 1)) != 0)
                    {
                        throw new ScanFormatException($"alignment {_alignment} is not a power of two");
                    }

                    continue;
                }

                if (hints is not null && key == "general.architecture" && type == 8)
                {
                    hints.Architecture = ReadString(256, $"the value of '{key}'");
                    continue;
                }

                if (hints is not null && key.EndsWith(".pooling_type", StringComparison.Ordinal) && type == 4)
                {
                    hints.Pooling[key[..^".pooling_type".Length]] = U32();
                    continue;
                }

                if (hints is not null && key == "tokenizer.chat_template")
                {
                    hints.HasChatTemplate = true;
                }

                SkipValue(type, 0);
            }

            var tensors = new List<(string Name, ulong Offset, ulong Bytes)>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var name = ReadString(65535, "a tensor name");
                if (!names.Add(name))
                {
                    throw new ScanFormatException($"tensor '{name}' appears twice");
                }

                var dimensions = U32();
                if (dimensions is 0 or > MaxDimensions)
                {
                    throw new ScanFormatException($"tensor '{name}' has {dimensions} dimensions");
                }

                ulong elements = 1;
                for (var d = 0; d < dimensions; d++)
                {
                    elements = checked(elements * U64());
                }

                var type = U32();
                var offset = U64();
                if (offset % _alignment != 0)
                {
                    throw new ScanFormatException($"tensor '{name}' offset {offset} is not aligned to {_alignment}");
                }

                ulong bytes = 0;
                if (TypeSizes.TryGetValue(type, out var size))
                {
                    if (elements % (ulong)size.Block != 0)
                    {
                        throw new ScanFormatException($"tensor '{name}' has {elements} elements, not a whole number of type-{type} blocks");
                    }

                    bytes = checked(elements / (ulong)size.Block * (ulong)size.Bytes);
                }
                else if (type > 64)
                {
                    throw new ScanFormatException($"tensor '{name}' has unknown type {type}");
                }

                tensors.Add((name, offset, bytes));
            }

            var position = (ulong)file.Position;
            var dataStart = checked((position + _alignment - 1) / _alignment * _alignment);
            if (dataStart > (ulong)file.Length)
            {
                throw new ScanFormatException("the data section starts past the end of the file");
            }

            var dataLength = (ulong)file.Length - dataStart;
            foreach (var (name, offset, bytes) in tensors)
            {
                if (offset > dataLength || bytes > dataLength - offset)
                {
                    throw new ScanFormatException($"tensor '{name}' at offset {offset} ({bytes} bytes) lies outside the {dataLength}-byte data section");
                }
            }
        }

        private void SkipValue(uint type, int depth)
        {
            switch (type)
            {
                case 0 or 1 or 7:
                    Skip(1);
                    break;
                case 2 or 3:
                    Skip(2);
                    break;
                case 4 or 5 or 6:
                    Skip(4);
                    break;
                case 10 or 11 or 12:
                    Skip(8);
                    break;
                case 8:
                    var length = U64();
                    if (length > (ulong)options.MaxGgufStringBytes)
                    {
                        throw new ScanFormatException($"a string of {length} bytes exceeds the limit of {options.MaxGgufStringBytes}");
                    }

                    if (depth == 0)
                    {
                        SkipText(length);
                    }
                    else
                    {
                        Skip(length); // an element of an array: a byte string to llama.cpp (a vocabulary may hold any bytes)
                    }

                    break;
                case 9:
                    if (depth >= MaxNesting)
                    {
                        throw new ScanFormatException("arrays nested too deep");
                    }

                    var elementType = U32();
                    var count = U64();
                    if (count > (ulong)options.MaxGgufArrayElements)
                    {
                        throw new ScanFormatException($"an array of {count} elements exceeds the limit of {options.MaxGgufArrayElements}");
                    }

                    var width = elementType switch
                    {
                        0 or 1 or 7 => 1UL,
                        2 or 3 => 2UL,
                        4 or 5 or 6 => 4UL,
                        10 or 11 or 12 => 8UL,
                        _ => 0UL,
                    };
                    if (width > 0)
                    {
                        Skip(checked(count * width));
                        break;
                    }

                    for (ulong i = 0; i < count; i++)
                    {
                        if ((i & 0xFFFF) == 0)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                        }

                        SkipValue(elementType, depth + 1);
                    }

                    break;
                default:
                    throw new ScanFormatException($"unknown value type {type}");
            }
        }

        private string ReadString(int max, string what)
        {
            var length = U64();
            if (length > (ulong)max)
            {
                throw new ScanFormatException($"a name of {length} bytes exceeds the limit of {max}");
            }

            var bytes = new byte[length];
            Read(bytes);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new ScanFormatException($"{what} is not valid UTF-8");
            }
        }

        /// <summary>Reads past a string value of <paramref name="length"/> bytes (already bounded), checking that it is UTF-8 in pieces.</summary>
        private void SkipText(ulong length)
        {
            if (length > (ulong)(file.Length - file.Position))
            {
                throw new ScanFormatException($"a value of {length} bytes runs past the end of the file");
            }

            _text ??= new byte[64 * 1024];
            var decoder = StrictUtf8.GetDecoder();
            var left = length;
            try
            {
                do
                {
                    var piece = (int)Math.Min(left, (ulong)_text.Length);
                    Read(_text.AsSpan(0, piece));
                    left -= (ulong)piece;
                    decoder.GetCharCount(_text.AsSpan(0, piece), flush: left == 0);
                }
                while (left > 0);
            }
            catch (System.Text.DecoderFallbackException)
            {
                throw new ScanFormatException($"the value of '{_key}' is not valid UTF-8");
            }
        }

        private uint U32()
        {
            Read(_scratch.AsSpan(0, 4));
            return BinaryPrimitives.ReadUInt32LittleEndian(_scratch);
        }

        private ulong U64()
        {
            Read(_scratch.AsSpan(0, 8));
            return BinaryPrimitives.ReadUInt64LittleEndian(_scratch);
        }

        private void Read(Span<byte> buffer)
        {
            if (file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) < buffer.Length)
            {
                throw new ScanFormatException("ends inside the header");
            }
        }

        private void Skip(ulong count)
        {
            if (count > (ulong)(file.Length - file.Position))
            {
                throw new ScanFormatException($"a value of {count} bytes runs past the end of the file");
            }

            file.Position += (long)count;
        }
    }
}

/// <summary>What a GGUF file's metadata says about its use (<see cref="GgufScanner.ReadTaskHints"/>).</summary>
internal sealed class GgufTaskHints
{
    /// <summary><c>general.architecture</c>, when it is a string.</summary>
    public string? Architecture { get; set; }

    /// <summary><c>ARCH.pooling_type</c> values by architecture prefix.</summary>
    public Dictionary<string, uint> Pooling { get; } = new(StringComparer.Ordinal);

    /// <summary>Whether <c>tokenizer.chat_template</c> is present.</summary>
    public bool HasChatTemplate { get; set; }
}
