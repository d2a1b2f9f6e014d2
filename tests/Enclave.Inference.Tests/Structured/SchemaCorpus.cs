namespace Enclave.Inference.Tests.Structured;

/// <summary>The schemas every forged model must honour, for every seed: one per kind of constraint the compiler supports.</summary>
internal static class SchemaCorpus
{
    public static IReadOnlyDictionary<string, string> Schemas { get; } = new Dictionary<string, string>
    {
        ["object"] = """
            {"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120},
             "active":{"type":"boolean"},"note":{"type":["string","null"]}},"required":["name","age","active"],"additionalProperties":false}
            """,
        ["array"] = """
            {"type":"array","items":{"type":"integer","minimum":-5,"exclusiveMaximum":5},"minItems":1,"maxItems":4}
            """,
        ["enum"] = """
            {"type":"object","properties":{"color":{"enum":["red","green","blue",null]},"size":{"const":3},"unit":{"type":"string","enum":["cm","in",1]}},
             "required":["color","size","unit"],"additionalProperties":false}
            """,
        ["nested-ref"] = """
            {"$defs":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"],"additionalProperties":false}},
             "type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"],"additionalProperties":false}
            """,
        ["recursive-tree"] = """
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":3}},
             "required":["value","children"],"additionalProperties":false}},"$ref":"#/$defs/node"}
            """,
        ["patterns"] = """
            {"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2,4}$"},"tag":{"type":"string","pattern":"ab+c"},
             "word":{"type":"string","pattern":"^(yes|no|maybe)$"},"hex":{"type":"string","pattern":"^(0x)?[0-9a-fA-F]+$","maxLength":6}},
             "required":["code","tag","word","hex"],"additionalProperties":false}
            """,
        ["numbers"] = """
            {"type":"object","properties":{"p":{"type":"number","minimum":0,"maximum":1},"t":{"type":"number","exclusiveMinimum":-273.15,"maximum":1000},
             "n":{"type":"integer","exclusiveMinimum":10,"exclusiveMaximum":13},"neg":{"type":"number","maximum":-0.5},"big":{"type":"integer","minimum":1000000}},
             "required":["p","t","n","neg","big"],"additionalProperties":false}
            """,
        ["formats"] = """
            {"type":"object","properties":{"when":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},
             "mail":{"type":"string","format":"email"},"day":{"type":"string","format":"date"}},"required":["when","id","mail","day"],"additionalProperties":false}
            """,
        ["unions"] = """
            {"type":"object","properties":{"v":{"anyOf":[{"type":"string","minLength":2,"maxLength":5},{"type":"null"},{"type":"integer"}]},
             "shape":{"oneOf":[{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number","minimum":0}},"required":["kind","r"],"additionalProperties":false},
                              {"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"number","minimum":0}},"required":["kind","side"],"additionalProperties":false}]},
             "pair":{"type":"array","prefixItems":[{"type":"string"},{"type":"boolean"}],"items":false,"minItems":2}},
             "required":["v","shape","pair"],"additionalProperties":false}
            """,
        ["open-object"] = """
            {"type":"object","properties":{"a":{"type":"string","minLength":1},"b":{"type":"integer"}},"required":["b"],"additionalProperties":{"type":"number"}}
            """,
        ["strings"] = """
            {"type":"object","properties":{"free":{"type":"string"},"short":{"type":"string","minLength":3,"maxLength":3},"list":{"type":"array","items":{"type":"string","maxLength":4},"maxItems":3}},
             "required":["free","short","list"],"additionalProperties":false}
            """,
    };
}
