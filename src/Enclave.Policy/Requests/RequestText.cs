using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Enclave.Policy.Requests;

/// <summary>
/// Every string value of a request body (messages, content parts, prompts, inputs, tool definitions, <c>user</c>...),
/// in document order, except the top-level <c>model</c>. Label extraction scans them for markings and the egress guard
/// inspects them, so nothing that leaves the enclave escapes inspection because it sits in an unexpected field.
/// Property names are not inspected.
/// </summary>
internal sealed class RequestText
{
    private RequestText(List<string> texts, bool truncated)
    {
        Texts = texts;
        Truncated = truncated;
    }

    /// <summary>The string values, in document order.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>True when the body held more than the collection bound; callers fail closed.</summary>
    public bool Truncated { get; }

    /// <summary>Collects the string values of <paramref name="body"/>, at most <paramref name="maxStrings"/> plus one (to tell the caller there were more).</summary>
    public static RequestText Collect(JsonObject body, int maxStrings)
    {
        ArgumentNullException.ThrowIfNull(body);
        var texts = new List<string>(8);
        var truncated = false;
        var count = body.Count;
        for (var i = 0; i < count; i++)
        {
            var (name, value) = body.GetAt(i);
            if (name == "model")
            {
                continue;
            }

            if (!Walk(value, texts, maxStrings))
            {
                truncated = true;
                break;
            }
        }

        return new RequestText(texts, truncated);
    }

    /// <summary>A deep copy of <paramref name="body"/> whose i-th string value is <paramref name="replacements"/>[i].</summary>
    public static JsonObject Replace(JsonObject body, IReadOnlyList<string> replacements)
    {
        ArgumentNullException.ThrowIfNull(body);
        var copy = (JsonObject)body.DeepClone();
        var index = 0;
        foreach (var name in copy.Select(p => p.Key).ToList())
        {
            if (name == "model")
            {
                continue;
            }

            if (Rewrite(copy[name], replacements, ref index) is { } replaced)
            {
                copy[name] = replaced;
            }
        }

        return copy;
    }

    /// <summary>The JSON path of the i-th string value, e.g. <c>messages[1].content</c>, for reasons a person reads.</summary>
    public static string PathOf(JsonObject body, int stringIndex)
    {
        var index = 0;
        foreach (var (name, value) in body)
        {
            if (name == "model")
            {
                continue;
            }

            if (Find(value, name, stringIndex, ref index) is { } path)
            {
                return path;
            }
        }

        return "string " + stringIndex.ToString(CultureInfo.InvariantCulture);
    }

    private static bool Walk(JsonNode? node, List<string> texts, int max)
    {
        switch (node)
        {
            case JsonObject o:
                // Read by position: no enumerator per object or array (every request passes here).
                var members = o.Count;
                for (var i = 0; i < members; i++)
                {
                    if (!Walk(o.GetAt(i).Value, texts, max))
                    {
                        return false;
                    }
                }

                return true;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (!Walk(a[i], texts, max))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                if (texts.Count > max)
                {
                    return false;
                }

                texts.Add(v.GetValue<string>());
                return true;
            default:
                return true;
        }
    }

    /// <summary>Rewrites string values in place; returns a new node when <paramref name="node"/> itself is a string to replace.</summary>
    private static JsonValue? Rewrite(JsonNode? node, IReadOnlyList<string> replacements, ref int index)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var name in o.Select(p => p.Key).ToList())
                {
                    if (Rewrite(o[name], replacements, ref index) is { } replaced)
                    {
                        o[name] = replaced;
                    }
                }

                return null;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (Rewrite(a[i], replacements, ref index) is { } replaced)
                    {
                        a[i] = replaced;
                    }
                }

                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                var text = replacements[index++];
                return string.Equals(text, v.GetValue<string>(), StringComparison.Ordinal) ? null : JsonValue.Create(text);
            default:
                return null;
        }
    }

    private static string? Find(JsonNode? node, string path, int target, ref int index)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, v) in o)
                {
                    if (Find(v, path + "." + name, target, ref index) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (Find(a[i], new StringBuilder(path).Append('[').Append(i).Append(']').ToString(), target, ref index) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return index++ == target ? path : null;
            default:
                return null;
        }
    }
}
