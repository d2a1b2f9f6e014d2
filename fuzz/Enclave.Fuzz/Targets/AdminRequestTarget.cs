using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The bodies of the <c>/admin/v1</c> endpoints that take one, along the path each takes before anything changes:
/// the strict parse every endpoint does (<see cref="StrictJson.Parse"/>, depth 8) and then each endpoint's reads of
/// its fields: <c>POST /users</c> (name, kind, roles, clearance, unknown members refused), <c>POST /keys</c> (user,
/// name, expires), <c>POST /policy/explain</c> (user, model, label, backend), <c>POST /airlock/pulls</c> (mirror,
/// kind, name, version, the mirror URL), <c>POST /airlock/imports/{id}/reject</c> (reason) and the alert
/// acknowledge/resolve bodies (note, reason, resolution). A <see cref="JsonException"/> is the 400 every endpoint
/// answers; any other exception would be a 500 and is a finding.
/// </summary>
internal static class AdminRequestTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "admin-request",
        Parser = "Enclave.Server /admin/v1 request bodies (StrictJson, then each endpoint's field reads)",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("user.json", """{"name":"alice","kind":"user","roles":["admin","operator"],"clearance":"SECRET"}"""),
            Seeds.Text("key.json", """{"user":"alice","name":"laptop","expires":"2027-01-31T00:00:00Z"}"""),
            Seeds.Text("explain.json", """{"user":"alice","model":"qwen3","label":"SECRET//NOFORN","backend":"local"}"""),
            Seeds.Text("pull.json", """{"mirror":"https://mirror.enclave/","kind":"model","name":"qwen3","version":"1.0.0"}"""),
            Seeds.Text("reject.json", """{"reason":"not approved for this network"}"""),
            Seeds.Text("resolve.json", """{"reason":"patched","resolution":"false-positive","note":"n"}"""),
        ],
    };

    private static readonly string[] UserFields = ["name", "kind", "roles", "clearance"];
    private static readonly string[] KeyFields = ["user", "name", "expires"];

    private static void Run(byte[] input)
    {
        JsonNode? node;
        try
        {
            node = StrictJson.Parse(input, maxDepth: 8);
        }
        catch (JsonException)
        {
            return; // 400: not valid JSON
        }

        if (node is not JsonObject body)
        {
            return; // 400: the body must be a JSON object
        }

        // IdentityAdminEndpoints: unknown members are named in the answer; every field must be a string, roles strings.
        foreach (var allowed in new[] { UserFields, KeyFields })
        {
            _ = string.Join(", ", body.Select(p => p.Key).Where(k => !allowed.Contains(k, StringComparer.Ordinal)));
        }

        foreach (var name in UserFields.Concat(KeyFields))
        {
            _ = String(body, name);
        }

        if (body["roles"] is JsonArray roles)
        {
            foreach (var item in roles)
            {
                _ = item is JsonValue value && value.TryGetValue<string>(out _);
            }
        }

        if (String(body, "expires") is { } expires)
        {
            _ = DateTimeOffset.TryParse(expires, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out _);
        }

        // PolicyAdminEndpoints.Explain, AlertAdminEndpoints: optional or required strings.
        foreach (var name in new[] { "user", "model", "label", "backend", "note", "reason", "resolution" })
        {
            if (body.TryGetPropertyValue(name, out var field) && field is JsonValue v && v.TryGetValue<string>(out var text))
            {
                _ = text.Length;
            }
        }

        // AirlockAdminEndpoints.PullAsync: the mirror must be an absolute http(s) URL without query or fragment.
        if (String(body, "mirror") is { } mirror && Uri.TryCreate(mirror, UriKind.Absolute, out var url))
        {
            _ = url.Scheme == Uri.UriSchemeHttps && url.Query.Length == 0 && url.Fragment.Length == 0;
        }

        // The body's problem answers quote what was sent: the JSON must serialize back.
        _ = body.ToJsonString();
    }

    private static string? String(JsonObject body, string name) =>
        body[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
