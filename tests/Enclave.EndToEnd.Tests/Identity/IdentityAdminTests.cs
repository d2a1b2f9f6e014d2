using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Cli;
using Enclave.Policy.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.EndToEnd.Tests.Identity;

/// <summary>
/// Users and keys through the admin API and the <c>enclave users</c> / <c>enclave keys</c> commands (in-process CLI
/// against the real server on loopback): each change takes effect at once and is in the ledger with the caller as actor.
/// </summary>
public sealed class IdentityAdminTests(IdentityFixture enclave) : IClassFixture<IdentityFixture>, IDisposable
{
    private readonly string _keyFile = Path.GetTempFileName();

    [Fact]
    public async Task Cli_UsersAddKeysCreateRevoke_WorkThroughTheAdminApi_AndAreRecorded()
    {
        var added = await CliAsync(enclave.AdminKey, "users", "add", "ivan", "--role", "user", "--role", "analyst", "--clearance", "SECRET//NOFORN", "--json");
        Assert.Equal(0, added.Code);
        var user = JsonNode.Parse(added.Out)!;
        Assert.Equal("user:ivan", user["id"]!.GetValue<string>());
        Assert.Equal(["analyst", "user"], user["roles"]!.AsArray().Select(r => r!.GetValue<string>()).Order().ToArray());
        Assert.Equal("SECRET//NOFORN", user["clearance"]!.GetValue<string>());

        var created = await CliAsync(enclave.AdminKey, "keys", "create", "--user", "ivan", "--expires", "30d", "--name", "ivan laptop");
        Assert.Equal(0, created.Code);
        var key = created.Out.Trim();
        Assert.Matches("^ek_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$", key);
        Assert.Contains("shown this once", created.Error, StringComparison.Ordinal);
        var keyId = key[3..15];

        using (var http = enclave.Client(key))
        {
            var me = JsonNode.Parse(await http.GetStringAsync("/admin/v1/whoami"))!;
            Assert.Equal("user:ivan", me["id"]!.GetValue<string>());
            Assert.Equal(keyId, me["keyId"]!.GetValue<string>());
            Assert.Equal("SECRET//NOFORN", me["clearance"]!.GetValue<string>());
            // Its own keys, and only those.
            var own = JsonNode.Parse(await http.GetStringAsync("/admin/v1/keys"))!["keys"]!.AsArray();
            var only = Assert.Single(own);
            Assert.Equal(keyId, only!["id"]!.GetValue<string>());
            Assert.Equal("ivan laptop", only["name"]!.GetValue<string>());
            var expires = DateTimeOffset.Parse(only["expires"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(expires, DateTimeOffset.UtcNow.AddDays(29), DateTimeOffset.UtcNow.AddDays(31));
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/admin/v1/keys?user=admin")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync("/admin/v1/users")).StatusCode);
        }

        var list = await CliAsync(enclave.AdminKey, "keys", "list", "--user", "ivan");
        Assert.Equal(0, list.Code);
        Assert.Contains(keyId, list.Out, StringComparison.Ordinal);
        Assert.Contains("active", list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(key, list.Out, StringComparison.Ordinal);

        var revoked = await CliAsync(enclave.AdminKey, "keys", "revoke", keyId);
        Assert.Equal(0, revoked.Code);
        using (var http = enclave.Client(key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/models")).StatusCode);
        }

        var events = enclave.Entries();
        var userAdded = Assert.Single(events, e => e.Type == "user.added" && e.Subject == "user:ivan");
        Assert.Equal("user:admin", userAdded.Actor);
        Assert.Equal("user:admin", Assert.Single(events, e => e.Type == "key.created" && e.Subject == "key:" + keyId).Actor);
        Assert.Equal("user:admin", Assert.Single(events, e => e.Type == "key.revoked" && e.Subject == "key:" + keyId).Actor);
        var refused = events.Last(e => e.Type == "auth.failed");
        Assert.Contains("\"reason\":\"revoked\"", refused.Details!.Value.GetRawText(), StringComparison.Ordinal);
        Assert.Contains(keyId, refused.Details!.Value.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(events, e => e.Details?.GetRawText().Contains(key[16..], StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task DisablingAUser_RefusesAllItsKeysAtOnce_AndIsRecorded()
    {
        var first = await enclave.AddUserWithKeyAsync("judy", ["user"]);
        string second;
        using (var admin = enclave.Client(enclave.AdminKey))
        {
            var response = await admin.PostAsJsonAsync("/admin/v1/keys", new JsonObject { ["user"] = "judy" });
            second = (await response.Content.ReadFromJsonAsync<JsonObject>())!["key"]!.GetValue<string>();
        }

        var disabled = await CliAsync(enclave.AdminKey, "users", "disable", "judy");
        Assert.Equal(0, disabled.Code);

        foreach (var key in new[] { first, second })
        {
            using var http = enclave.Client(key);
            var response = await http.GetAsync("/v1/models");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal("user:admin", Assert.Single(enclave.Entries(), e => e.Type == "user.disabled" && e.Subject == "user:judy").Actor);
        var listed = await CliAsync(enclave.AdminKey, "users", "list");
        Assert.Matches("judy +user +user +\\(lowest\\) +disabled", listed.Out);
        var again = await CliAsync(enclave.AdminKey, "users", "disable", "judy");
        Assert.Equal((int)ExitCode.InvalidInput, again.Code);
        Assert.Contains("already disabled", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServiceAccount_GetsItsOwnIdPrefix()
    {
        var added = await CliAsync(enclave.AdminKey, "users", "add", "ci-pipeline", "--role", "airlock-importer", "--service", "--json");

        Assert.Equal(0, added.Code);
        Assert.Equal("service:ci-pipeline", JsonNode.Parse(added.Out)!["id"]!.GetValue<string>());
        var key = JsonNode.Parse((await CliAsync(enclave.AdminKey, "keys", "create", "--user", "ci-pipeline", "--json")).Out)!["key"]!.GetValue<string>();
        using var http = enclave.Client(key);
        Assert.Equal("service:ci-pipeline", JsonNode.Parse(await http.GetStringAsync("/admin/v1/whoami"))!["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"name":"Kim","roles":["user"]}""", "not a valid name")]
    [InlineData("""{"name":"kim","roles":["superuser"]}""", "unknown role 'superuser'")]
    [InlineData("""{"name":"kim","roles":["user"],"clearance":"SECRET//BOGUS"}""", "clearance")]
    [InlineData("""{"name":"kim","roles":"user"}""", "'roles' must be an array")]
    [InlineData("""{"name":"kim","roles":["user"],"isAdmin":true}""", "unknown field(s) 'isAdmin'")]
    [InlineData("""{"name":"kim","name":"admin","roles":["user"]}""", "not valid JSON")]
    [InlineData("""{"name":"kim","roles":["user"]""", "not valid JSON")]
    [InlineData("""["kim"]""", "must be a JSON object")]
    [InlineData("""{"kind":"robot","name":"kim"}""", "'kind' must be 'user' or 'service'")]
    public async Task AddUser_WithBadInput_Is400_AndChangesNothing(string body, string expected)
    {
        using var admin = enclave.Client(enclave.AdminKey);
        var entriesBefore = enclave.Entries().Count;

        var response = await admin.PostAsync("/admin/v1/users", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains(expected, detail, StringComparison.Ordinal);
        Assert.Contains("nothing was changed", detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/v1/users/kim")).StatusCode);
        Assert.DoesNotContain(enclave.Entries().Skip(entriesBefore), e => e.Type == "user.added");
    }

    [Fact]
    public async Task AddUser_OversizedBody_Is400()
    {
        using var admin = enclave.Client(enclave.AdminKey);
        var body = "{\"name\":\"big\",\"roles\":[\"user\"],\"clearance\":\"" + new string('S', 70_000) + "\"}";

        var response = await admin.PostAsync("/admin/v1/users", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/admin/v1/users/big")).StatusCode);
    }

    [Fact]
    public async Task UpdatingAUser_ChangesRolesAndClearanceFromTheNextRequest_AndIsRecordedAsUserUpdated()
    {
        var key = await enclave.AddUserWithKeyAsync("mallory", ["user"]);
        using (var before = enclave.Client(key))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await before.GetAsync("/admin/v1/alerts")).StatusCode);
        }

        var updated = await CliAsync(enclave.AdminKey, "users", "update", "mallory", "--role", "user", "--role", "analyst", "--clearance", "SECRET", "--json");
        Assert.True(updated.Code == 0, updated.Error);
        var user = JsonNode.Parse(updated.Out)!;
        Assert.Equal(["analyst", "user"], user["roles"]!.AsArray().Select(r => r!.GetValue<string>()).Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("SECRET", user["clearance"]!.GetValue<string>());

        using (var after = enclave.Client(key))
        {
            Assert.Equal(HttpStatusCode.OK, (await after.GetAsync("/admin/v1/alerts")).StatusCode);
        }

        var entry = Assert.Single(enclave.Entries(), e => e.Type == "user.updated" && e.Subject == "user:mallory");
        Assert.Equal("user:admin", entry.Actor);
        var details = entry.Details!.Value;
        Assert.Equal("SECRET", details.GetProperty("clearance").GetString());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("previousClearance").ValueKind);
        Assert.Equal(["user"], details.GetProperty("previousRoles").EnumerateArray().Select(r => r.GetString()!).ToArray());
        Assert.Contains("analyst", details.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));

        // Nothing to change, an unknown role, the last admin losing its role, an unknown user: refused, nothing recorded.
        var count = enclave.Entries().Count(e => e.Type == "user.updated");
        Assert.Equal((int)ExitCode.Usage, (await CliAsync(enclave.AdminKey, "users", "update", "mallory")).Code);
        using var admin = enclave.Client(enclave.AdminKey);
        using var unknown = await admin.PatchAsync("/admin/v1/users/mallory", new StringContent("""{"roles":["superuser"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("unknown role 'superuser'", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var same = await admin.PatchAsync("/admin/v1/users/mallory", new StringContent("""{"clearance":"SECRET"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, same.StatusCode);
        using var lastAdmin = await admin.PatchAsync("/admin/v1/users/admin", new StringContent("""{"roles":["user"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, lastAdmin.StatusCode);
        using var missing = await admin.PatchAsync("/admin/v1/users/nobody", new StringContent("""{"roles":["user"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(count, enclave.Entries().Count(e => e.Type == "user.updated"));
    }

    [Fact]
    public async Task AddUser_TwiceIsAConflict_AndTheLastAdminCannotBeDisabled()
    {
        await enclave.AddUserWithKeyAsync("leo", ["user"]);
        using var admin = enclave.Client(enclave.AdminKey);

        var twice = await admin.PostAsync("/admin/v1/users", new StringContent("""{"name":"leo","roles":["admin"]}""", Encoding.UTF8, "application/json"));
        var lastAdmin = await admin.PostAsync("/admin/v1/users/admin/disable", null);

        Assert.Equal(HttpStatusCode.Conflict, twice.StatusCode);
        Assert.Equal(["user"], JsonNode.Parse(await admin.GetStringAsync("/admin/v1/users/leo"))!["roles"]!.AsArray().Select(r => r!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.Conflict, lastAdmin.StatusCode);
        Assert.Contains("last enabled admin", await lastAdmin.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("yesterday", "neither a duration")]
    [InlineData("2001-01-01", "not in the future")]
    [InlineData("0d", "neither a duration")]
    [InlineData("5y", "unit must be m, h, d or w")]
    [InlineData("99999999w", "more than 100 years")]
    public async Task KeysCreate_BadExpiry_IsInvalidInput_AndCreatesNothing(string expires, string expected)
    {
        var before = enclave.Entries().Count(e => e.Type == "key.created");

        var result = await CliAsync(enclave.AdminKey, "keys", "create", "--user", "admin", "--expires", expires);

        Assert.Equal((int)ExitCode.InvalidInput, result.Code);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
        Assert.Equal(before, enclave.Entries().Count(e => e.Type == "key.created"));
    }

    [Fact]
    public async Task KeysCreate_ExpiryInThePastSentDirectly_Is400()
    {
        using var admin = enclave.Client(enclave.AdminKey);

        var response = await admin.PostAsync("/admin/v1/keys", new StringContent("""{"user":"admin","expires":"2020-01-01T00:00:00Z"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Cli_WithANonAdminKey_IsDenied_WithTheDeniedExitCode()
    {
        var key = await enclave.AddUserWithKeyAsync("mia", ["analyst"]);

        var result = await CliAsync(key, "users", "add", "nobody", "--role", "user");

        Assert.Equal((int)ExitCode.Denied, result.Code);
        Assert.Contains("Forbidden", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_WithARevokedOrWrongKey_IsDenied()
    {
        var result = await CliAsync("ek_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "users", "list");

        Assert.Equal((int)ExitCode.Denied, result.Code);
        Assert.Contains("not valid, revoked or expired", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokingAnUnknownKey_Is404_AndAWholePastedKeyIsReducedToItsId()
    {
        var unknown = await CliAsync(enclave.AdminKey, "keys", "revoke", "ek_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        var malformed = await CliAsync(enclave.AdminKey, "keys", "revoke", "not-an-id");

        Assert.Equal((int)ExitCode.NotFound, unknown.Code);
        Assert.Contains("0123456789ab", unknown.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("AAAAAAAA", unknown.Error, StringComparison.Ordinal);
        Assert.Equal((int)ExitCode.NotFound, malformed.Code);
    }

    [Fact]
    public async Task PrincipalDirectory_IsRegistered_AndSeesChangesMadeThroughTheAdminApi()
    {
        var directory = enclave.App.Services.GetRequiredService<IPrincipalDirectory>();
        await enclave.AddUserWithKeyAsync("nina", [Roles.Analyst], "TOP SECRET//SI/TK");

        var nina = directory.Find("user:nina")!;

        Assert.Equal(("user:nina", "nina", "TOP SECRET//SI/TK", false), (nina.Id, nina.Name, nina.Clearance, nina.Disabled));
        Assert.Equal([Roles.Analyst], nina.Roles);
        Assert.Equal([Roles.Admin], directory.Find("admin")!.Roles);
        Assert.Null(directory.Find("oidc:someone"));
        await CliAsync(enclave.AdminKey, "users", "disable", "nina");
        Assert.True(directory.Find("nina")!.Disabled);
    }

    private async Task<(int Code, string Out, string Error)> CliAsync(string apiKey, params string[] args)
    {
        await File.WriteAllTextAsync(_keyFile, apiKey);
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, In = new StringReader(string.Empty), OpenStandardOutput = () => new MemoryStream() };
        var code = await EnclaveCli.RunAsync([.. args, "--server", enclave.BaseUrl, "--api-key-file", _keyFile], context);
        return (code, output.ToString(), error.ToString());
    }

    public void Dispose() => File.Delete(_keyFile);
}
