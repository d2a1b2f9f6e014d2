using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Enclave.Core.Audit;

/// <summary>
/// The fields of a details record (<see cref="IAuditDetails"/>) or of a record nested in one, read once per type: their
/// names, and how each value becomes JSON. Values become what the ledger's first events put into a
/// <see cref="JsonObject"/> (strings, integers, doubles, booleans, <see cref="JsonNode"/> trees, arrays of these, objects
/// of nested records or string-keyed dictionaries), so that the canonical bytes are the same.
/// </summary>
internal sealed class AuditDetailsShape
{
    private static readonly ConcurrentDictionary<Type, AuditDetailsShape> Shapes = new();

    private readonly Member[] _canonicalOrder;

    private AuditDetailsShape(Type type)
    {
        var members = new List<Member>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null || property.Name == "EqualityContract")
            {
                continue;
            }

            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            members.Add(new Member(name, property, property.IsDefined(typeof(WrittenWhenNullAttribute))));
        }

        var duplicate = members.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"{type.Name} has two properties named '{duplicate.Key}' in JSON");
        }

        Fields = [.. members.Select(m => m.Name)];
        _canonicalOrder = [.. members.OrderBy(m => m.Name, StringComparer.Ordinal)];
    }

    /// <summary>The JSON names of the fields, in declaration order.</summary>
    public IReadOnlyList<string> Fields { get; }

    public static AuditDetailsShape Of(Type type) => Shapes.GetOrAdd(type, static t => new AuditDetailsShape(t));

    /// <summary>Writes <paramref name="details"/>' members in canonical order.</summary>
    public void Write(object details, ref AuditDetailsWriter writer)
    {
        foreach (var member in _canonicalOrder)
        {
            var value = member.Property.GetValue(details);
            switch (value)
            {
                case null when member.WrittenWhenNull:
                    writer.Node(member.Name, null);
                    break;
                case null:
                    break;
                case string text:
                    writer.String(member.Name, text);
                    break;
                case bool flag:
                    writer.Boolean(member.Name, flag);
                    break;
                case int or long or short or uint:
                    writer.Number(member.Name, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                    break;
                case double number:
                    writer.Number(member.Name, number);
                    break;
                case JsonNode node:
                    writer.Node(member.Name, node);
                    break;
                default:
                    writer.Node(member.Name, ToNode(value));
                    break;
            }
        }
    }

    /// <summary>The <see cref="JsonObject"/> of a nested record's members.</summary>
    private JsonObject ToObject(object value)
    {
        var result = new JsonObject();
        foreach (var member in _canonicalOrder)
        {
            var item = member.Property.GetValue(value);
            if (item is not null || member.WrittenWhenNull)
            {
                result[member.Name] = ToNode(item);
            }
        }

        return result;
    }

    private static JsonNode? ToNode(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case string text:
                return JsonValue.Create(text);
            case bool flag:
                return JsonValue.Create(flag);
            case int or long or short or uint:
                return JsonValue.Create(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
            case double number:
                return JsonValue.Create(number);
            case JsonNode node:
                return node.Parent is null ? node : node.DeepClone();
            case IDictionary dictionary:
                var obj = new JsonObject();
                foreach (DictionaryEntry entry in dictionary)
                {
                    obj[(string)entry.Key] = ToNode(entry.Value);
                }

                return obj;
            case IEnumerable pairs when StringKeyedValues(value.GetType()) is { } valueOf:
                // An IReadOnlyDictionary<string, T> that is no IDictionary.
                var members = new JsonObject();
                foreach (var pair in pairs)
                {
                    var (key, item) = valueOf(pair!);
                    members[key] = ToNode(item);
                }

                return members;
            case IEnumerable items:
                var array = new JsonArray();
                foreach (var item in items)
                {
                    array.Add(ToNode(item));
                }

                return array;
            default:
                var type = value.GetType();
                if (type.IsPrimitive || type.IsEnum || type.IsValueType)
                {
                    throw new InvalidOperationException($"audit details cannot hold a {type.Name}; use a string or a number");
                }

                return Of(type).ToObject(value);
        }
    }

    private static Func<object, (string, object?)>? StringKeyedValues(Type type)
    {
        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i =>
            i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) && i.GenericTypeArguments[0] == typeof(string));
        if (dictionary is null)
        {
            return null;
        }

        var pair = typeof(KeyValuePair<,>).MakeGenericType(dictionary.GenericTypeArguments);
        var key = pair.GetProperty("Key")!;
        var value = pair.GetProperty("Value")!;
        return p => ((string)key.GetValue(p)!, value.GetValue(p));
    }

    private sealed record Member(string Name, PropertyInfo Property, bool WrittenWhenNull);
}
