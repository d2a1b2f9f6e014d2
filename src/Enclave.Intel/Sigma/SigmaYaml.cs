using System.Buffers;
using System.Text.Unicode;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Enclave.Intel.Sigma;

/// <summary>A node of a parsed YAML document: a scalar, a mapping (keys in file order) or a sequence.</summary>
internal abstract record YamlNode(int Line);

/// <summary>A scalar; <paramref name="Plain"/> is true for an unquoted scalar (so <c>null</c>, <c>true</c>, <c>42</c> are typed).</summary>
internal sealed record YamlScalar(string Value, bool Plain, int Line) : YamlNode(Line)
{
    public bool IsNull => Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    public bool? AsBool => Plain ? Value switch { "true" or "True" or "TRUE" => true, "false" or "False" or "FALSE" => false, _ => null } : null;
}

/// <summary>A mapping with unique scalar keys, in file order.</summary>
internal sealed record YamlMap(IReadOnlyList<KeyValuePair<string, YamlNode>> Entries, int Line) : YamlNode(Line)
{
    public YamlNode? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;
}

/// <summary>A sequence.</summary>
internal sealed record YamlSequence(IReadOnlyList<YamlNode> Items, int Line) : YamlNode(Line);

/// <summary>
/// Bounded YAML reading with YamlDotNet's event parser: UTF-8 checked first, size, depth, node and document counts
/// bounded, anchors, aliases and explicit tags refused (so no alias expansion can blow up), duplicate keys rejected.
/// </summary>
internal static class SigmaYaml
{
    public static IReadOnlyList<YamlNode> ReadDocuments(ReadOnlySpan<byte> bytes, string source, SigmaReaderOptions options)
    {
        if (bytes.Length > options.MaxFileBytes)
        {
            throw new SigmaRejectedException(SigmaRejection.Oversized, $"{source}: {bytes.Length} bytes, more than the {options.MaxFileBytes}-byte limit for a rule file");
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            bytes = bytes[3..];
        }

        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            throw new SigmaRejectedException(SigmaRejection.InvalidUtf8, $"{source}: invalid UTF-8 at byte offset {read}");
        }

        return ReadDocuments(new string(chars, 0, written), source, options);
    }

    public static IReadOnlyList<YamlNode> ReadDocuments(string text, string source, SigmaReaderOptions options)
    {
        if (text.Length > options.MaxFileBytes)
        {
            throw new SigmaRejectedException(SigmaRejection.Oversized, $"{source}: {text.Length} characters, more than the {options.MaxFileBytes} limit for a rule file");
        }

        var reader = new Reader(new Parser(new StringReader(text)), source, options);
        try
        {
            return reader.ReadStream();
        }
        catch (YamlException ex)
        {
            throw new SigmaRejectedException(SigmaRejection.YamlSyntax, $"{source}: line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}");
        }
        catch (ArgumentException ex) when (ex.TargetSite?.DeclaringType?.Assembly == typeof(Parser).Assembly)
        {
            // YamlDotNet throws this, not a YamlException, for a tag it cannot name ("!!!!x": "Global tags must be
            // valid URIs"); found by fuzz/, harness sigma (30-minute run of session 9).
            throw new SigmaRejectedException(SigmaRejection.YamlSyntax, $"{source}: not valid YAML ({ex.Message})");
        }
        catch (InvalidOperationException ex) when (ex.TargetSite?.DeclaringType?.Assembly == typeof(Parser).Assembly)
        {
            // YamlDotNet's scanner throws this, not a YamlException, for some malformed plain scalars (an unclosed
            // flow sequence followed by another key: "title: [gin\nid: x"); found by fuzz/, harness sigma.
            throw new SigmaRejectedException(SigmaRejection.YamlSyntax, $"{source}: not valid YAML (the parser stopped: {ex.Message}); check for an unclosed '[' or '{{'");
        }
    }

    private sealed class Reader(IParser parser, string source, SigmaReaderOptions options)
    {
        private int _nodes;

        public List<YamlNode> ReadStream()
        {
            var documents = new List<YamlNode>();
            Expect<StreamStart>();
            while (!parser.Accept<StreamEnd>(out _))
            {
                Expect<DocumentStart>();
                if (documents.Count >= options.MaxDocuments)
                {
                    throw new SigmaRejectedException(SigmaRejection.TooLarge, $"{source}: more than {options.MaxDocuments} YAML documents");
                }

                documents.Add(ReadNode(1));
                Expect<DocumentEnd>();
            }

            return documents;
        }

        private T Expect<T>()
            where T : ParsingEvent
        {
            return parser.Consume<T>();
        }

        private YamlNode ReadNode(int depth)
        {
            if (depth > options.MaxDepth)
            {
                throw new SigmaRejectedException(SigmaRejection.TooLarge, $"{source}: line {parser.Current?.Start.Line}: nesting deeper than {options.MaxDepth}");
            }

            if (++_nodes > options.MaxNodes)
            {
                throw new SigmaRejectedException(SigmaRejection.TooLarge, $"{source}: more than {options.MaxNodes} YAML nodes");
            }

            var current = parser.Current ?? throw new SigmaRejectedException(SigmaRejection.YamlSyntax, $"{source}: the YAML ends early");
            var line = checked((int)current.Start.Line);
            switch (current)
            {
                case AnchorAlias alias:
                    throw new SigmaRejectedException(SigmaRejection.AnchorOrAlias, $"{source}: line {line}: alias *{alias.Value} refused (Sigma rules need no anchors or aliases)");
                case NodeEvent node when !node.Anchor.IsEmpty:
                    throw new SigmaRejectedException(SigmaRejection.AnchorOrAlias, $"{source}: line {line}: anchor &{node.Anchor} refused (Sigma rules need no anchors or aliases)");
                case NodeEvent node when !node.Tag.IsEmpty && !(node is Scalar { Tag.Value: "!" }):
                    throw new SigmaRejectedException(SigmaRejection.AnchorOrAlias, $"{source}: line {line}: explicit tag {node.Tag} refused");
                case Scalar scalar:
                    parser.MoveNext();
                    if (scalar.Value.Length > options.MaxScalarLength)
                    {
                        throw new SigmaRejectedException(SigmaRejection.TooLarge, $"{source}: line {line}: a value of {scalar.Value.Length} characters, more than {options.MaxScalarLength}");
                    }

                    return new YamlScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, line);
                case SequenceStart:
                    {
                        parser.MoveNext();
                        var items = new List<YamlNode>();
                        while (!parser.Accept<SequenceEnd>(out _))
                        {
                            items.Add(ReadNode(depth + 1));
                        }

                        parser.MoveNext();
                        return new YamlSequence(items, line);
                    }

                case MappingStart:
                    {
                        parser.MoveNext();
                        var entries = new List<KeyValuePair<string, YamlNode>>();
                        var keys = new HashSet<string>(StringComparer.Ordinal);
                        while (!parser.Accept<MappingEnd>(out _))
                        {
                            var keyNode = ReadNode(depth + 1);
                            if (keyNode is not YamlScalar key)
                            {
                                throw new SigmaRejectedException(SigmaRejection.InvalidField, $"{source}: line {keyNode.Line}: a mapping key must be a plain value");
                            }

                            if (!keys.Add(key.Value))
                            {
                                throw new SigmaRejectedException(SigmaRejection.DuplicateKey, $"{source}: line {key.Line}: duplicate key '{key.Value}'");
                            }

                            entries.Add(new(key.Value, ReadNode(depth + 1)));
                        }

                        parser.MoveNext();
                        return new YamlMap(entries, line);
                    }

                default:
                    throw new SigmaRejectedException(SigmaRejection.YamlSyntax, $"{source}: line {line}: unexpected {current.GetType().Name}");
            }
        }
    }
}
