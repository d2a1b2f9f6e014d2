using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

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
        return Collect(JsonViews.ElementOf(body), maxStrings);
    }

    /// <summary>
    /// Collects the string values of <paramref name="body"/> (a JSON object), at most <paramref name="maxStrings"/>
    /// plus one. The one definition of the request's text and its order: <see cref="PathOf(JsonElement, int)"/> and
    /// <see cref="Replace(JsonElement, IReadOnlyList{string})"/> number the strings as this does.
    /// </summary>
    public static RequestText Collect(JsonElement body, int maxStrings)
    {
        RequireObject(body);
        var texts = new List<string>(8);
        var truncated = false;
        foreach (var member in body.EnumerateObject())
        {
            if (member.NameEquals("model"u8))
            {
                continue;
            }

            if (!Walk(member.Value, texts, maxStrings))
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
        return Replace(JsonViews.ElementOf(body), replacements);
    }

    /// <summary>
    /// A new object with the members of <paramref name="body"/> whose i-th string value (numbered as
    /// <see cref="Collect(JsonElement, int)"/> numbers them) is <paramref name="replacements"/>[i].
    /// </summary>
    public static JsonObject Replace(JsonElement body, IReadOnlyList<string> replacements)
    {
        RequireObject(body);
        ArgumentNullException.ThrowIfNull(replacements);
        var copy = JsonObject.Create(body)!; // a tree of its own: the element is read-only
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
        ArgumentNullException.ThrowIfNull(body);
        return PathOf(JsonViews.ElementOf(body), stringIndex);
    }

    /// <summary>The JSON path of the i-th string value (numbered as <see cref="Collect(JsonElement, int)"/> numbers them).</summary>
    public static string PathOf(JsonElement body, int stringIndex)
    {
        RequireObject(body);
        var index = 0;
        foreach (var member in body.EnumerateObject())
        {
            if (member.NameEquals("model"u8))
            {
                continue;
            }

            if (Find(member.Value, member.Name, stringIndex, ref index) is { } path)
            {
                return path;
            }
        }

        return "string " + stringIndex.ToString(CultureInfo.InvariantCulture);
    }

    private static void RequireObject(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException($"a request body is a JSON object, not {body.ValueKind}", nameof(body));
        }
    }

    private static bool Walk(JsonElement element, List<string> texts, int max)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                // Struct enumerators: nothing allocated per object or array (every request passes here).
                foreach (var member in element.EnumerateObject())
                {
                    if (!Walk(member.Value, texts, max))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!Walk(item, texts, max))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.String:
                if (texts.Count > max)
                {
                    return false;
                }

                texts.Add(element.GetString()!);
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

    private static string? Find(JsonElement element, string path, int target, ref int index)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var member in element.EnumerateObject())
                {
                    if (Find(member.Value, path + "." + member.Name, target, ref index) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Find(item, new StringBuilder(path).Append('[').Append(i).Append(']').ToString(), target, ref index) is { } found)
                    {
                        return found;
                    }

                    i++;
                }

                return null;
            case JsonValueKind.String:
                return index++ == target ? path : null;
            default:
                return null;
        }
    }
}
