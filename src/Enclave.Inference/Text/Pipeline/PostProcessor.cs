using System.Text.Json;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>A <c>tokenizer.json</c> post-processor: adds the special tokens (a BOS, say) that <c>encode(text)</c> adds.</summary>
internal sealed class PostProcessor
{
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    private PostProcessor(int[] prefix, int[] suffix)
    {
        _prefix = prefix;
        _suffix = suffix;
    }

    /// <summary>A post-processor that adds nothing.</summary>
    public static PostProcessor None { get; } = new([], []);

    public void Apply(List<int> ids)
    {
        if (_prefix.Length > 0)
        {
            ids.InsertRange(0, _prefix);
        }

        ids.AddRange(_suffix);
    }

    /// <summary>Reads a post-processor; <paramref name="tokenId"/> resolves a token string to its ID, or null.</summary>
    public static PostProcessor FromJson(JsonElement? json, JsonFields fields, string path, Func<string, int?> tokenId, int depth = 0)
    {
        if (json is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return None;
        }

        string type = fields.Type(element, path);
        switch (type)
        {
            case "ByteLevel":
                return None; // only adjusts offsets
            case "TemplateProcessing":
                return FromTemplate(element, fields, path, tokenId);
            case "BertProcessing":
            case "RobertaProcessing":
            {
                int Token(string name)
                {
                    JsonElement pair = fields.Array(element, name, path);
                    if (pair.GetArrayLength() != 2 || pair[1].ValueKind != JsonValueKind.Number || !pair[1].TryGetInt32(out int id))
                    {
                        throw fields.Invalid($"{path}.{name}", "is not a [token, id] pair");
                    }

                    return id;
                }

                return new PostProcessor([Token("cls")], [Token("sep")]);
            }

            case "Sequence":
            {
                if (depth > 8)
                {
                    throw fields.Invalid(path, "nests Sequence post-processors too deeply");
                }

                var prefix = new List<int>();
                var suffix = new List<int>();
                int i = 0;
                foreach (JsonElement item in fields.Array(element, "processors", path).EnumerateArray())
                {
                    PostProcessor p = FromJson(item, fields, $"{path}.processors[{i++}]", tokenId, depth + 1);
                    prefix.InsertRange(0, p._prefix);
                    suffix.AddRange(p._suffix);
                }

                return new PostProcessor([.. prefix], [.. suffix]);
            }

            default:
                throw fields.Unsupported(path, $"a post-processor of type '{type}'");
        }
    }

    private static PostProcessor FromTemplate(JsonElement element, JsonFields fields, string path, Func<string, int?> tokenId)
    {
        JsonElement single = fields.Array(element, "single", path);
        JsonElement? specials = fields.OptionalObject(element, "special_tokens", path);
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        int i = 0;
        foreach (JsonElement item in single.EnumerateArray())
        {
            string itemPath = $"{path}.single[{i++}]";
            if (item.TryGetProperty("Sequence", out _))
            {
                seenSequence = true;
                continue;
            }

            JsonElement special = fields.Object(item, "SpecialToken", itemPath);
            string name = fields.String(special, "id", itemPath + ".SpecialToken");
            List<int> ids = [];
            if (specials is { } map && map.TryGetProperty(name, out JsonElement entry) && entry.TryGetProperty("ids", out JsonElement idArray) && idArray.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement id in idArray.EnumerateArray())
                {
                    ids.Add(id.TryGetInt32(out int v) ? v : throw fields.Invalid($"{path}.special_tokens.{name}.ids", "holds a non-integer"));
                }
            }
            else
            {
                ids.Add(tokenId(name) ?? throw fields.Invalid(itemPath, $"names special token '{name}', which is neither in special_tokens nor in the vocabulary"));
            }

            (seenSequence ? suffix : prefix).AddRange(ids);
        }

        return new PostProcessor([.. prefix], [.. suffix]);
    }
}
