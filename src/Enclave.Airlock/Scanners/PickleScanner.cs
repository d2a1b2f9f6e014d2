using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Enclave.Airlock.Scanners;

/// <summary>
/// Walks pickle opcodes (protocols 0 to 5) with a simulated stack and refuses imports of dangerous globals
/// (<c>GLOBAL</c>, <c>INST</c>, <c>STACK_GLOBAL</c>), as picklescan does; also looks inside zip-based PyTorch
/// files at their <c>*.pkl</c> entries. A tripwire, not a guarantee: unpickling untrusted data stays unsafe.
/// </summary>
public sealed class PickleScanner : IContentScanner
{
    private static readonly string[] StrictExtensions = [".pkl", ".pickle", ".pt", ".pth", ".ckpt", ".joblib"];

    // Module-wide: every attribute of these modules (and their submodules) is refused.
    private static readonly string[] DangerousModules =
    [
        "os", "nt", "posix", "subprocess", "sys", "socket", "shutil", "runpy", "commands", "pty", "webbrowser",
        "asyncio", "bdb", "pdb", "ctypes", "importlib", "pickle", "_pickle", "marshal", "code", "codeop",
        "multiprocessing", "signal", "urllib", "urllib2", "requests", "httplib", "http", "aiohttp", "ftplib",
        "smtplib", "telnetlib", "pip", "setuptools", "distutils", "torch.hub", "dill", "cloudpickle", "joblib.externals",
    ];

    // Attribute-specific.
    private static readonly Dictionary<string, string[]> DangerousAttributes = new(StringComparer.Ordinal)
    {
        ["builtins"] = ["eval", "exec", "execfile", "compile", "open", "breakpoint", "__import__", "getattr", "setattr", "delattr", "apply", "input", "globals", "locals", "vars"],
        ["__builtin__"] = ["eval", "exec", "execfile", "compile", "open", "breakpoint", "__import__", "getattr", "setattr", "delattr", "apply", "input", "globals", "locals", "vars"],
        ["__builtins__"] = ["eval", "exec", "execfile", "compile", "open", "breakpoint", "__import__", "getattr", "setattr", "delattr", "apply", "input", "globals", "locals", "vars"],
        ["operator"] = ["attrgetter", "methodcaller"],
        ["_operator"] = ["attrgetter", "methodcaller"],
        ["types"] = ["CodeType", "FunctionType"],
        ["numpy.testing._private.utils"] = ["runstring"],
        ["torch.serialization"] = ["load"],
        ["torch._inductor.codecache"] = ["compile_file"],
    };

    private readonly ContentScanOptions _options;

    public PickleScanner(ContentScanOptions? options = null) => _options = options ?? ContentScanOptions.Default;

    /// <inheritdoc/>
    public string Name => "pickle";

    /// <inheritdoc/>
    public bool Applies(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (StrictExtensions.Contains(extension) || extension == ".bin")
        {
            return true;
        }

        // Protocol 2+ pickles start with PROTO.
        using var file = File.OpenRead(path);
        return file.ReadByte() == 0x80;
    }

    /// <inheritdoc/>
    public ScanResult Scan(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var strict = StrictExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());
        var findings = new List<string>();
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan))
        {
            Span<byte> magic = stackalloc byte[4];
            var read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
            file.Position = 0;
            if (read == 4 && magic.SequenceEqual("PK\x03\x04"u8))
            {
                ScanZip(file, path, findings, cancellationToken);
            }
            else
            {
                ScanStream(file, file.Length, path, strict, findings, cancellationToken);
            }
        }

        return ScanResult.Of(Name, path, findings);
    }

    /// <summary>Whether <paramref name="module"/>.<paramref name="name"/> is a refused global.</summary>
    public static bool IsDangerous(string module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        foreach (var m in DangerousModules)
        {
            if (module == m || module.StartsWith(m + ".", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return DangerousAttributes.TryGetValue(module, out var names) && names.Contains(name.Split('.')[0]);
    }

    private void ScanZip(FileStream file, string path, List<string> findings, CancellationToken cancellationToken)
    {
        try
        {
            using var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            if (zip.Entries.Count > _options.MaxZipEntries)
            {
                findings.Add($"{path}: zip has {zip.Entries.Count} entries, more than the limit of {_options.MaxZipEntries}; refused");
                return;
            }

            var pickles = 0;
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                pickles++;
                if (entry.Length > _options.MaxPickleBytes)
                {
                    findings.Add($"{path}!{entry.FullName}: pickle of {entry.Length} bytes exceeds the limit of {_options.MaxPickleBytes}; refused");
                    continue;
                }

                using var stream = entry.Open();
                ScanStream(stream, entry.Length, $"{path}!{entry.FullName}", strict: true, findings, cancellationToken);
            }

            if (pickles == 0)
            {
                findings.Add($"{path}: zip file holds no .pkl entry; it is not a PyTorch archive the scanner understands, refused");
            }
        }
        catch (InvalidDataException e)
        {
            findings.Add($"{path}: malformed zip ({e.Message}); refused");
        }
        catch (NotSupportedException e)
        {
            findings.Add($"{path}: zip uses an unsupported feature ({e.Message}); refused");
        }
    }

    private void ScanStream(Stream stream, long length, string where, bool strict, List<string> findings, CancellationToken cancellationToken)
    {
        var walker = new Walker(stream, length, _options, where, findings, cancellationToken);
        walker.Run(strict);
    }

    private sealed class Walker(Stream stream, long length, ContentScanOptions options, string where, List<string> findings, CancellationToken cancellationToken)
    {
        private const int MaxStoredString = 1024;
        private const int MaxPickles = 16;
        private static readonly object Mark = new();
        private static readonly object Other = new();
        private static readonly UTF8Encoding StrictUtf8 = new(false, true);

        private readonly List<object> _stack = [];
        private readonly List<int> _marks = [];
        private readonly Dictionary<ulong, object> _memo = [];
        private readonly byte[] _scratch = new byte[8];
        private long _position;
        private long _opcodes;

        public void Run(bool strict)
        {
            var completed = 0;
            try
            {
                while (completed < MaxPickles)
                {
                    if (completed > 0)
                    {
                        // Legacy torch files hold several pickles and then raw storage bytes: go on only while
                        // the next bytes start another pickle.
                        var next = stream.ReadByte();
                        if (next < 0)
                        {
                            return;
                        }

                        _position++;
                        if (next != 0x80)
                        {
                            return;
                        }

                        WalkOne(first: (byte)next);
                    }
                    else
                    {
                        WalkOne(first: null);
                    }

                    completed++;
                }
            }
            catch (ScanFormatException e) when (completed == 0 && (strict || findings.Count > 0))
            {
                findings.Add($"{where}: malformed pickle at byte {_position}: {e.Message}; refused");
            }
            catch (ScanFormatException) when (completed > 0 || !strict)
            {
                // Not a pickle (or the raw data after a legacy torch pickle): what matters is that no dangerous
                // import was seen before this point, because the unpickler would stop here too.
            }
            catch (InvalidDataException e)
            {
                findings.Add($"{where}: unreadable compressed data ({e.Message}); refused");
            }
        }

        private void WalkOne(byte? first)
        {
            _stack.Clear();
            _marks.Clear();
            _memo.Clear();
            var opcode = first ?? ReadByte();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (++_opcodes > options.MaxPickleOpcodes)
                {
                    throw new ScanFormatException($"more than {options.MaxPickleOpcodes} opcodes");
                }

                if (Step(opcode))
                {
                    return;
                }

                opcode = ReadByte();
            }
        }

        // Returns true at STOP.
        private bool Step(byte op)
        {
            switch (op)
            {
                case (byte)'(': // MARK
                    if (_marks.Count >= options.MaxPickleStack)
                    {
                        throw new ScanFormatException("mark stack too deep");
                    }

                    _marks.Add(_stack.Count);
                    return false;
                case (byte)'.': // STOP
                    Pop(1);
                    return true;
                case (byte)'0': // POP
                    if (_stack.Count > (_marks.Count > 0 ? _marks[^1] : 0))
                    {
                        Pop(1);
                    }
                    else
                    {
                        PopMark();
                    }

                    return false;
                case (byte)'1': // POP_MARK
                    PopMark();
                    return false;
                case (byte)'2': // DUP
                    Push(Peek());
                    return false;
                case (byte)'F': // FLOAT
                case (byte)'I': // INT
                case (byte)'L': // LONG
                    ReadLine();
                    Push(Other);
                    return false;
                case (byte)'S': // STRING
                    Push(Unquote(ReadLine()));
                    return false;
                case (byte)'V': // UNICODE
                    Push(ReadLine());
                    return false;
                case (byte)'P': // PERSID
                    ReadLine();
                    Push(Other);
                    return false;
                case (byte)'Q': // BINPERSID
                    Pop(1);
                    Push(Other);
                    return false;
                case (byte)'J': // BININT
                    Skip(4);
                    Push(Other);
                    return false;
                case (byte)'K': // BININT1
                    Skip(1);
                    Push(Other);
                    return false;
                case (byte)'M': // BININT2
                    Skip(2);
                    Push(Other);
                    return false;
                case (byte)'G': // BINFLOAT
                    Skip(8);
                    Push(Other);
                    return false;
                case (byte)'N': // NONE
                case 0x88: // NEWTRUE
                case 0x89: // NEWFALSE
                case (byte)'}': // EMPTY_DICT
                case (byte)']': // EMPTY_LIST
                case (byte)')': // EMPTY_TUPLE
                case 0x8f: // EMPTY_SET
                case 0x97: // NEXT_BUFFER
                    Push(Other);
                    return false;
                case (byte)'T': // BINSTRING
                    Push(ReadString(ReadLength(4, signed: true)));
                    return false;
                case (byte)'U': // SHORT_BINSTRING
                case 0x8c: // SHORT_BINUNICODE
                    Push(ReadString(ReadLength(1, signed: false)));
                    return false;
                case (byte)'X': // BINUNICODE
                    Push(ReadString(ReadLength(4, signed: false)));
                    return false;
                case 0x8d: // BINUNICODE8
                    Push(ReadString(ReadLength(8, signed: false)));
                    return false;
                case (byte)'B': // BINBYTES
                    Skip(ReadLength(4, signed: false));
                    Push(Other);
                    return false;
                case (byte)'C': // SHORT_BINBYTES
                case 0x8a: // LONG1
                    Skip(ReadLength(1, signed: false));
                    Push(Other);
                    return false;
                case 0x8b: // LONG4
                    Skip(ReadLength(4, signed: true));
                    Push(Other);
                    return false;
                case 0x8e: // BINBYTES8
                case 0x96: // BYTEARRAY8
                    Skip(ReadLength(8, signed: false));
                    Push(Other);
                    return false;
                case (byte)'a': // APPEND
                case (byte)'b': // BUILD
                    Pop(1);
                    return false;
                case (byte)'s': // SETITEM
                    Pop(2);
                    return false;
                case (byte)'e': // APPENDS
                case (byte)'u': // SETITEMS
                case 0x90: // ADDITEMS
                    PopMark();
                    return false;
                case (byte)'d': // DICT
                case (byte)'l': // LIST
                case (byte)'t': // TUPLE
                case 0x91: // FROZENSET
                case (byte)'o': // OBJ
                    PopMark();
                    Push(Other);
                    return false;
                case 0x85: // TUPLE1
                    Pop(1);
                    Push(Other);
                    return false;
                case 0x86: // TUPLE2
                case (byte)'R': // REDUCE
                case 0x81: // NEWOBJ
                    Pop(2);
                    Push(Other);
                    return false;
                case 0x87: // TUPLE3
                case 0x92: // NEWOBJ_EX
                    Pop(3);
                    Push(Other);
                    return false;
                case (byte)'c': // GLOBAL
                    CheckImport(ReadLine(), ReadLine(), "GLOBAL");
                    Push(Other);
                    return false;
                case (byte)'i': // INST
                    CheckImport(ReadLine(), ReadLine(), "INST");
                    PopMark();
                    Push(Other);
                    return false;
                case 0x93: // STACK_GLOBAL
                {
                    var name = Pop(1);
                    var module = Pop(1);
                    if (module is string m && name is string n)
                    {
                        CheckImport(m, n, "STACK_GLOBAL");
                    }
                    else
                    {
                        findings.Add($"{where}: STACK_GLOBAL at byte {_position} imports a name that is not a constant string; refused (cannot tell what it loads)");
                    }

                    Push(Other);
                    return false;
                }

                case (byte)'g': // GET
                    Push(MemoGet(ParseIndex(ReadLine())));
                    return false;
                case (byte)'h': // BINGET
                    Push(MemoGet(ReadLength(1, signed: false)));
                    return false;
                case (byte)'j': // LONG_BINGET
                    Push(MemoGet(ReadLength(4, signed: false)));
                    return false;
                case (byte)'p': // PUT
                    MemoPut(ParseIndex(ReadLine()));
                    return false;
                case (byte)'q': // BINPUT
                    MemoPut(ReadLength(1, signed: false));
                    return false;
                case (byte)'r': // LONG_BINPUT
                    MemoPut(ReadLength(4, signed: false));
                    return false;
                case 0x94: // MEMOIZE
                    MemoPut((ulong)_memo.Count);
                    return false;
                case 0x80: // PROTO
                    if (ReadByte() > 5)
                    {
                        throw new ScanFormatException("unknown pickle protocol");
                    }

                    return false;
                case 0x95: // FRAME
                    Skip(8);
                    return false;
                case 0x82: // EXT1
                    Skip(1);
                    Push(Other);
                    return false;
                case 0x83: // EXT2
                    Skip(2);
                    Push(Other);
                    return false;
                case 0x84: // EXT4
                    Skip(4);
                    Push(Other);
                    return false;
                case 0x98: // READONLY_BUFFER
                    Peek();
                    return false;
                default:
                    throw new ScanFormatException($"unknown opcode 0x{op:x2}");
            }
        }

        private void CheckImport(string module, string name, string opcode)
        {
            if (IsDangerous(module.Trim(), name.Trim()))
            {
                findings.Add($"{where}: {opcode} at byte {_position} imports {module.Trim()}.{name.Trim()}, which can run code when unpickled; refused");
            }
        }

        private void Push(object value)
        {
            if (_stack.Count >= options.MaxPickleStack)
            {
                throw new ScanFormatException("stack too deep");
            }

            _stack.Add(value);
        }

        private object Peek()
        {
            var floor = _marks.Count > 0 ? _marks[^1] : 0;
            if (_stack.Count <= floor)
            {
                throw new ScanFormatException("stack underflow");
            }

            return _stack[^1];
        }

        private object Pop(int count)
        {
            var floor = _marks.Count > 0 ? _marks[^1] : 0;
            if (_stack.Count - count < floor)
            {
                throw new ScanFormatException("stack underflow");
            }

            var top = _stack[^1];
            _stack.RemoveRange(_stack.Count - count, count);
            return top;
        }

        private void PopMark()
        {
            if (_marks.Count == 0)
            {
                throw new ScanFormatException("no mark on the stack");
            }

            var mark = _marks[^1];
            _marks.RemoveAt(_marks.Count - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
        }

        private object MemoGet(ulong index) =>
            _memo.TryGetValue(index, out var value) ? value : throw new ScanFormatException($"memo key {index} is not set");

        private void MemoPut(ulong index)
        {
            var value = Peek();
            if (_memo.Count >= options.MaxPickleStack && !_memo.ContainsKey(index))
            {
                throw new ScanFormatException("memo too large");
            }

            _memo[index] = value;
        }

        private static ulong ParseIndex(string line) =>
            ulong.TryParse(line, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var v)
                ? v
                : throw new ScanFormatException("memo index is not a number");

        private static object Unquote(string line)
        {
            if (line.Length >= 2 && (line[0] == '\'' || line[0] == '"') && line[^1] == line[0])
            {
                return line[1..^1];
            }

            return Other;
        }

        private byte ReadByte()
        {
            if (_position >= length)
            {
                throw new ScanFormatException("ends before STOP");
            }

            var b = stream.ReadByte();
            if (b < 0)
            {
                throw new ScanFormatException("ends before STOP");
            }

            _position++;
            return (byte)b;
        }

        private ulong ReadLength(int size, bool signed)
        {
            var span = _scratch.AsSpan(0, size);
            for (var i = 0; i < size; i++)
            {
                span[i] = ReadByte();
            }

            return size switch
            {
                1 => span[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(span),
                4 when signed => BinaryPrimitives.ReadInt32LittleEndian(span) is var v and >= 0 ? (ulong)v : throw new ScanFormatException("negative length"),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(span),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(span),
            };
        }

        private void Skip(ulong count)
        {
            if (count > (ulong)(length - _position))
            {
                throw new ScanFormatException($"a length of {count} runs past the end");
            }

            var remaining = (long)count;
            if (stream.CanSeek)
            {
                stream.Seek(remaining, SeekOrigin.Current);
                _position += remaining;
                return;
            }

            Span<byte> sink = stackalloc byte[256];
            while (remaining > 0)
            {
                var read = stream.Read(sink[..(int)Math.Min(remaining, sink.Length)]);
                if (read == 0)
                {
                    throw new ScanFormatException("ends inside a value");
                }

                remaining -= read;
                _position += read;
            }
        }

        private object ReadString(ulong count)
        {
            if (count > MaxStoredString)
            {
                Skip(count);
                return Other;
            }

            var bytes = new byte[count];
            for (var i = 0; i < bytes.Length; i++)
            {
                bytes[i] = ReadByte();
            }

            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                return Other;
            }
        }

        private string ReadLine()
        {
            var bytes = new List<byte>();
            while (true)
            {
                var b = ReadByte();
                if (b == (byte)'\n')
                {
                    break;
                }

                if (bytes.Count >= options.MaxStringBytes)
                {
                    throw new ScanFormatException("text argument too long");
                }

                bytes.Add(b);
            }

            return Encoding.Latin1.GetString([.. bytes]);
        }
    }
}
