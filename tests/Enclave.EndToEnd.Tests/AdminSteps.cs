using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Enclave.Cli;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// What an operator does through the real CLI against a running server: key files, approvers, airlock imports and
/// approvals, and any other command (run in-process, with <c>--server</c> and <c>--api-key-file</c>).
/// </summary>
internal sealed class AdminSteps(string baseUrl, string adminKey, string folder)
{
    /// <summary>Writes <paramref name="key"/> to a key file for <c>--api-key-file</c>.</summary>
    public string KeyFile(string name, string key)
    {
        var path = Path.Combine(folder, name + ".key");
        File.WriteAllText(path, key);
        return path;
    }

    /// <summary>A new user with role <c>airlock-approver</c>; returns its key file.</summary>
    public async Task<string> ApproverAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        var added = await http.PostAsJsonAsync("/admin/v1/users", new JsonObject { ["name"] = name, ["roles"] = new JsonArray("airlock-approver") });
        Assert.True(added.IsSuccessStatusCode, await added.Content.ReadAsStringAsync());
        var created = await http.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = name });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        return KeyFile(name, (await created.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>());
    }

    /// <summary><c>enclave airlock import BUNDLE --json</c>; returns the import ID.</summary>
    public async Task<string> ImportAsync(string keyFile, string bundle)
    {
        var imported = await CliAsync(keyFile, "airlock", "import", bundle, "--json");
        Assert.True(imported.Code == 0, imported.Error);
        return JsonNode.Parse(imported.Out)!["id"]!.GetValue<string>();
    }

    /// <summary>Approves <paramref name="id"/> by each approver in turn until it is activated.</summary>
    public async Task ApproveUntilActivatedAsync(string[] approvers, string id)
    {
        var outputs = new List<string>();
        foreach (var approver in approvers)
        {
            var approved = await CliAsync(approver, "airlock", "approve", id, "--json");
            Assert.True(approved.Code == 0, approved.Error);
            outputs.Add(approved.Out);
            if (JsonNode.Parse(approved.Out)!["state"]!.GetValue<string>() == "activated")
            {
                return;
            }
        }

        Assert.Fail($"{id} was not activated by {approvers.Length} approvals: {string.Join("\n", outputs)}");
    }

    /// <summary>Runs <c>enclave ARGS --server URL --api-key-file KEYFILE</c> in-process.</summary>
    public async Task<(int Code, string Out, string Error)> CliAsync(string keyFile, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = TextReader.Null, OpenStandardOutput = () => Stream.Null };
        var code = await EnclaveCli.RunAsync([.. args, "--server", baseUrl, "--api-key-file", keyFile], context);
        return (code, output.ToString(), error.ToString());
    }
}
