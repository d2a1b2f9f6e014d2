using System.Text.Json;

namespace Enclave.Inference.Text.Pipeline;

/// <summary>Reads fields of a tokenizer's JSON with errors that name the file and the JSON path.</summary>
internal sealed class JsonFields(string file)
{
    public string File { get; } = file;

    public TokenizerException Invalid(string path, string problem) =>
        new(TokenizerError.InvalidDefinition, $"{File} rejected: {path} {problem}; the file is damaged or not a Hugging Face tokenizer file");

    public TokenizerException Unsupported(string path, string what) =>
        new(TokenizerError.Unsupported, $"{File} rejected: {path} is {what}, which this engine does not implement; use a model whose tokenizer is a BPE (byte-level or SentencePiece-style) tokenizer");

    public JsonElement Object(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path}.{name}", "is missing or not an object");
        }

        return value;
    }

    public JsonElement? OptionalObject(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"{path}.{name}", "is not an object");
        }

        return value;
    }

    public JsonElement Array(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid($"{path}.{name}", "is missing or not an array");
        }

        return value;
    }

    public string String(JsonElement parent, string name, string path) =>
        OptionalString(parent, name, path) ?? throw Invalid($"{path}.{name}", "is missing");

    public string? OptionalString(JsonElement parent, string name, string path)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Invalid($"{path}.{name}", $"is a {value.ValueKind}, not a string");
        }

        return value.GetString();
    }

    public bool Bool(JsonElement parent, string name, string path, bool defaultValue)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultValue;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid($"{path}.{name}", $"is a {value.ValueKind}, not a boolean"),
        };
    }

    public int Int(JsonElement parent, string name, string path, int? defaultValue = null)
    {
        if (!parent.TryGetProperty(name, out JsonElement value) || value.ValueKind == JsonValueKind.Null)
        {
            return defaultValue ?? throw Invalid($"{path}.{name}", "is missing");
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
        {
            throw Invalid($"{path}.{name}", "is not a 32-bit integer");
        }

        return result;
    }

    /// <summary>The <c>type</c> of a component object.</summary>
    public string Type(JsonElement component, string path)
    {
        if (component.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, "is not an object");
        }

        return String(component, "type", path);
    }

    /// <summary>A <c>pattern</c> object: <c>{"String": "..."}</c> or <c>{"Regex": "..."}</c>.</summary>
    public JsRegex Pattern(JsonElement parent, string path, TimeSpan timeout)
    {
        JsonElement pattern = Object(parent, "pattern", path);
        string? literal = OptionalString(pattern, "String", path + ".pattern");
        if (literal is not null)
        {
            return JsRegex.Literal(literal, timeout);
        }

        string? regex = OptionalString(pattern, "Regex", path + ".pattern");
        if (regex is null)
        {
            throw Invalid(path + ".pattern", "has neither String nor Regex");
        }

        try
        {
            return JsRegex.Create(regex, timeout);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerException(TokenizerError.Unsupported, $"{File} rejected: {path}.pattern.Regex cannot be compiled ({e.Message}); this engine runs the regular expressions of byte-level BPE tokenizers (GPT-2, Llama 3, Qwen)", e);
        }
    }
}
