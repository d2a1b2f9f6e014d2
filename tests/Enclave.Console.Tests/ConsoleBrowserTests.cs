using System.Net;
using System.Text.Json.Nodes;
using Enclave.Airlock.Repository;
using Enclave.Core.Audit;
using Enclave.Inference.Forge;
using Enclave.Intel.Alerts;
using Enclave.OperatorConsole.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The operator console in a real browser (Debian's Chromium through Playwright) against a real enclave on loopback:
/// sign-in, two-person airlock approval in two browser contexts, the audit log with a verified inclusion proof, key
/// revocation, role-limited pages, CSRF and the security headers.
/// </summary>
public sealed class ConsoleBrowserTests(ConsoleFixture enclave) : IClassFixture<ConsoleFixture>
{
    [Fact]
    public async Task SignIn_WithAnApiKey_ShowsTheOverviewBetweenTwoBanners_AndSignOutEndsTheSession()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);

        Assert.Equal("Overview", await page.TextContentAsync("h1"));
        Assert.Equal("UNCLASSIFIED", await page.TextContentAsync("#banner-top"));
        Assert.Equal("UNCLASSIFIED", await page.TextContentAsync("#banner-bottom"));
        Assert.Contains("UNCLASSIFIED", await page.TextContentAsync("#page-label"), StringComparison.Ordinal);
        Assert.True(await page.IsVisibleAsync("nav >> text=Users and keys"));

        // The session is a cookie: HttpOnly, SameSite=Strict, scoped to /console; the key itself is never stored.
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == ConsoleServices.CookieName);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/console", cookie.Path);
        Assert.DoesNotContain(enclave.AdminKey, cookie.Value, StringComparison.Ordinal);

        await page.ClickAsync("text=Sign out");
        await page.WaitForURLAsync("**/console/signin");
        await page.GotoAsync("/console/users");
        Assert.EndsWith("/console/signin?ReturnUrl=%2Fconsole%2Fusers", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WithAWrongKey_IsRefusedWithAClearMessage_AndRecordedAsAuthFailed()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/console/signin");
        await page.FillAsync("#key", "ek_notakeyatall0.secret");
        var response = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#signin"), r => r.Request.Method == "POST");

        Assert.Equal(401, response.Status);
        Assert.Contains("Not signed in", await page.TextContentAsync("#signin-error"), StringComparison.Ordinal);
        Assert.Contains(enclave.Entries(), e => e.Event.Type == "auth.failed" && e.Event.Subject == "/console/signin");
    }

    [Fact]
    public async Task Import_IsApprovedByTwoPeopleInTwoBrowserContexts_ThroughTheAdminCode_AndTheLedgerNamesTheConsole()
    {
        var importer = await enclave.AddUserAsync("ingrid", "airlock-importer");
        var alice = await enclave.AddUserAsync("alice", "airlock-approver");
        var bob = await enclave.AddUserAsync("bob", "airlock-approver");
        var id = await ImportBundleAsync(importer.Key, "console-chat");

        await using var aliceContext = await enclave.NewContextAsync();
        await using var bobContext = await enclave.NewContextAsync();
        var alicePage = await ConsoleFixture.SignInAsync(aliceContext, alice.Key);
        var bobPage = await ConsoleFixture.SignInAsync(bobContext, bob.Key);

        // Both see it waiting on the overview and in the queue.
        Assert.Contains("pending approval", await alicePage.TextContentAsync("#attention"), StringComparison.Ordinal);
        await alicePage.ClickAsync("#attention a");
        await alicePage.ClickAsync($"a:text('{id}')");
        Assert.Equal("pending approval", await alicePage.TextContentAsync("#import-state"));
        await alicePage.ClickAsync("#approve");
        Assert.Contains("another approver must approve", await alicePage.TextContentAsync("#action-result"), StringComparison.Ordinal);
        Assert.StartsWith("1 of 2", await alicePage.TextContentAsync("#approvals"), StringComparison.Ordinal);

        await bobPage.GotoAsync($"/console/airlock/{id}");
        Assert.StartsWith("1 of 2: user:alice", await bobPage.TextContentAsync("#approvals"), StringComparison.Ordinal);
        await bobPage.ClickAsync("#approve");
        Assert.Contains("model console-chat is served", await bobPage.TextContentAsync("#action-result"), StringComparison.Ordinal);
        Assert.Equal("activated", await bobPage.TextContentAsync("#import-state"));

        // The model is served through the API at once, and the ledger holds the admin API's entries with via: console.
        using (var http = enclave.AdminClient())
        {
            Assert.Contains("console-chat", await http.GetStringAsync("/v1/models"), StringComparison.Ordinal);
        }

        var trail = enclave.Entries().Where(e => e.Event.Subject == "import:" + id).Select(e => e.Event).ToList();
        Assert.Equal(["import.received", "import.verified", "import.approved", "import.approved", "import.activated"], trail.Select(e => e.Type).ToArray());
        Assert.Equal(["user:alice", "user:bob"], trail.Where(e => e.Type == "import.approved").Select(e => e.Actor).ToArray());
        Assert.All(trail.Where(e => e.Type == "import.approved"), e => Assert.Equal("console", e.Details!.Value.GetProperty("via").GetString()));
        var activated = Assert.Single(trail, e => e.Type == "import.activated");
        Assert.Equal("user:bob", activated.Actor);
        Assert.Equal("console", activated.Details!.Value.GetProperty("via").GetString());

        // Imported through the admin API (not the console): its received and verified entries name no surface.
        Assert.All(trail.Where(e => e.Type is "import.received" or "import.verified"), e => Assert.False(e.Details!.Value.TryGetProperty("via", out _)));
    }

    [Fact]
    public async Task Alert_IsAcknowledgedThenResolvedAsAFalsePositive_FromTheConsole_ThroughAlertService_AndTheLedgerNamesTheConsole()
    {
        var alerts = enclave.Services.GetRequiredService<AlertService>();
        var alert = await alerts.RaiseAsync(new AlertRequest
        {
            Kind = AlertKind.Detection,
            Severity = AlertSeverity.High,
            Title = "console alert probe",
            Subject = "user:mallory",
            Evidence = new AlertEvidence { Summary = "raised by the console test" },
        });
        var analyst = await enclave.AddUserAsync("anna", "analyst");

        // An analyst sees the alert but no form to change it; a forged post is refused by the server and changes nothing.
        await using (var analystContext = await enclave.NewContextAsync())
        {
            var analystPage = await ConsoleFixture.SignInAsync(analystContext, analyst.Key);
            await analystPage.GotoAsync("/console/alerts");
            Assert.Contains(alert.Id, await analystPage.TextContentAsync("#alerts"), StringComparison.Ordinal);
            Assert.Equal(0, await analystPage.Locator("#alert-action").CountAsync());
        }

        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        await page.GotoAsync("/console/alerts");
        await page.SelectOptionAsync("#alert-id", alert.Id);
        await page.FillAsync("#alert-text", "looking at it");
        await page.ClickAsync("#alert-ack");
        Assert.Contains($"Acknowledged: alert {alert.Id}", await page.TextContentAsync("#action-result"), StringComparison.Ordinal);
        Assert.Equal(AlertState.Acknowledged, alerts.Find(alert.Id)!.State);

        // Resolving without a reason is refused with a clear message and changes nothing.
        await page.SelectOptionAsync("#alert-id", alert.Id);
        var refused = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#alert-false-positive"), r => r.Request.Method == "POST");
        Assert.Equal(409, refused.Status);
        Assert.Contains("say why the alert is resolved", await page.TextContentAsync("#action-result"), StringComparison.Ordinal);
        Assert.Equal(AlertState.Acknowledged, alerts.Find(alert.Id)!.State);

        await page.SelectOptionAsync("#alert-id", alert.Id);
        await page.FillAsync("#alert-text", "the test raised it");
        await page.ClickAsync("#alert-false-positive");
        Assert.Contains($"Marked a false positive: alert {alert.Id}", await page.TextContentAsync("#action-result"), StringComparison.Ordinal);
        Assert.Equal(AlertState.FalsePositive, alerts.Find(alert.Id)!.State);
        Assert.DoesNotContain(alert.Id, await page.TextContentAsync("#alerts"), StringComparison.Ordinal);

        var trail = enclave.Entries().Where(e => e.Event.Subject == "alert:" + alert.Id).Select(e => e.Event).ToList();
        Assert.Equal(["alert.raised", "alert.acknowledged", "alert.resolved"], trail.Select(e => e.Type).ToArray());
        var ack = trail[1].Details!.Value;
        Assert.Equal("looking at it", ack.GetProperty("note").GetString());
        Assert.Equal("console", ack.GetProperty("via").GetString());
        var resolved = trail[2].Details!.Value;
        Assert.Equal("false-positive", resolved.GetProperty("resolution").GetString());
        Assert.Equal("the test raised it", resolved.GetProperty("reason").GetString());
        Assert.Equal("console", resolved.GetProperty("via").GetString());
        Assert.All(trail.Skip(1), e => Assert.Equal("user:admin", e.Actor));
    }

    [Fact]
    public async Task Settings_ShowTheEffectiveConfiguration_AndNoConfiguredSecretEverAppearsInThePage()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        await page.ClickAsync("nav >> text=Settings");
        await page.WaitForURLAsync("**/console/settings");
        var html = await page.ContentAsync();

        // Plain values are shown; every configured secret is replaced, by its name or by its look.
        Assert.Contains("Server:CheckpointInterval", html, StringComparison.Ordinal);
        Assert.Contains(enclave.DataDirectory, html, StringComparison.Ordinal);
        Assert.NotEmpty(ConsoleFixture.ConfiguredSecrets);
        foreach (var (key, secret) in ConsoleFixture.ConfiguredSecrets)
        {
            Assert.Contains(key, html, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        }

        Assert.Equal(ConsoleFixture.ConfiguredSecrets.Count, await page.Locator("#settings td.redacted").CountAsync());

        // Nor the contents of any key file in the data directory (the ledger's signing key, the console's data-protection keys).
        foreach (var file in Directory.EnumerateFiles(enclave.DataDirectory, "*key*", SearchOption.AllDirectories))
        {
            var text = File.ReadAllText(file).Trim();
            if (text.Length >= 16)
            {
                Assert.DoesNotContain(text, html, StringComparison.Ordinal);
            }
        }

        // An analyst may not open it.
        var analyst = await enclave.AddUserAsync("sam", "analyst");
        await using var analystContext = await enclave.NewContextAsync();
        var analystPage = await ConsoleFixture.SignInAsync(analystContext, analyst.Key);
        Assert.Equal(0, await analystPage.Locator("nav >> text=Settings").CountAsync());
        var refused = await analystPage.GotoAsync("/console/settings");
        Assert.Equal(403, refused!.Status);
    }

    [Fact]
    public async Task Policy_ShowsTheLabelScheme_AndBackends_AndExplainsAHypotheticalRequest_AsTheAdminApiDoes()
    {
        var importer = await enclave.AddUserAsync("ivan", "airlock-importer");
        var first = await enclave.AddUserAsync("petra", "airlock-approver");
        var second = await enclave.AddUserAsync("quinn", "airlock-approver");
        var id = await ImportBundleAsync(importer.Key, "policy-chat");
        foreach (var approver in new[] { first.Key, second.Key })
        {
            using var http = enclave.AdminClient(approver);
            using var approved = await http.PostAsync($"/admin/v1/airlock/imports/{id}/approve", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(approved.IsSuccessStatusCode, await approved.Content.ReadAsStringAsync());
        }

        var auditor = await enclave.AddUserAsync("paula", "auditor");
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, auditor.Key);
        await page.ClickAsync("nav >> text=Policy");
        await page.WaitForURLAsync("**/console/policy");
        Assert.Contains("UNCLASSIFIED", await page.TextContentAsync("#label-scheme"), StringComparison.Ordinal);
        var row = page.Locator("#backends tr", new PageLocatorOptions { HasText = "policy-chat" });
        Assert.Equal(1, await row.CountAsync());
        Assert.Contains("no", await row.TextContentAsync(), StringComparison.Ordinal);

        // Explain: the page shows the same answer as POST /admin/v1/policy/explain for the same question.
        await page.FillAsync("#explain-user", "quinn");
        await page.FillAsync("#explain-model", "policy-chat");
        await page.ClickAsync("#explain");
        Assert.StartsWith("Allowed", await page.TextContentAsync("#explain-decision"), StringComparison.Ordinal);
        var shown = JsonNode.Parse((await page.TextContentAsync("#explain-json"))!)!;
        using (var http = enclave.AdminClient())
        {
            using var api = await http.PostAsync("/admin/v1/policy/explain", new StringContent("{\"user\":\"quinn\",\"model\":\"policy-chat\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(await api.Content.ReadAsStringAsync()), shown));
        }

        // A model that is not served is a clear problem, not an error page.
        await page.FillAsync("#explain-model", "no-such-model");
        var missing = await page.RunAndWaitForResponseAsync(() => page.ClickAsync("#explain"), r => r.Request.Method == "POST");
        Assert.Equal(400, missing.Status);
        Assert.Contains("the model 'no-such-model' is not served", await page.TextContentAsync("#explain-problem"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditLog_FiltersByTypeAndActor_AndAnEntryShowsItsCanonicalJsonAndAVerifiedInclusionProof()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        // A change made in the console: a key for the auditor.
        var auditor = await enclave.AddUserAsync("audrey", "auditor");
        await page.GotoAsync("/console/users");
        await page.SelectOptionAsync("#key-user", "audrey");
        await page.FillAsync("#key-name", "second-key");
        await page.ClickAsync("#create-key");
        Assert.StartsWith("ek_", await page.TextContentAsync("#new-key"), StringComparison.Ordinal);

        // The auditor finds it by type and actor and opens it.
        await using var auditorContext = await enclave.NewContextAsync();
        var auditorPage = await ConsoleFixture.SignInAsync(auditorContext, auditor.Key);
        await auditorPage.ClickAsync("nav >> text=Audit log");
        await auditorPage.FillAsync("#type", "key.created");
        await auditorPage.FillAsync("#actor", "user:admin");
        await auditorPage.ClickAsync("text=Filter");
        var rows = auditorPage.Locator("#entries tbody tr");
        Assert.True(await rows.CountAsync() >= 1, await auditorPage.ContentAsync());
        Assert.Equal("key.created", await rows.First.Locator("td").Nth(2).TextContentAsync());
        await rows.First.Locator("a").ClickAsync();

        var json = JsonNode.Parse((await auditorPage.TextContentAsync("#entry-json"))!)!;
        Assert.Equal("key.created", json["type"]!.GetValue<string>());
        Assert.Equal("console", json["details"]!["via"]!.GetValue<string>());
        Assert.StartsWith("Verified", await auditorPage.TextContentAsync("#proof-status"), StringComparison.Ordinal);
        Assert.Contains("console.example/ledger", await auditorPage.TextContentAsync("#checkpoint"), StringComparison.Ordinal);
        Assert.True(await auditorPage.Locator("#proof li").CountAsync() >= 1);
    }

    [Fact]
    public async Task RevokedKey_IsRefusedByTheApi_AndItsConsoleSessionEndsAtOnce()
    {
        var carol = await enclave.AddUserAsync("carol", "auditor");
        await using var carolContext = await enclave.NewContextAsync();
        var carolPage = await ConsoleFixture.SignInAsync(carolContext, carol.Key);
        using (var http = enclave.AdminClient(carol.Key))
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/v1/whoami")).StatusCode);
        }

        await using var adminContext = await enclave.NewContextAsync();
        var admin = await ConsoleFixture.SignInAsync(adminContext, enclave.AdminKey);
        await admin.GotoAsync("/console/users");
        await admin.ClickAsync($"#revoke-{carol.KeyId}");
        Assert.Contains("revoked", await admin.TextContentAsync("#action-result"), StringComparison.Ordinal);

        using (var http = enclave.AdminClient(carol.Key))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/admin/v1/whoami")).StatusCode);
        }

        await carolPage.GotoAsync("/console/audit");
        Assert.Contains("/console/signin", carolPage.Url, StringComparison.Ordinal);
        var revoked = enclave.Entries().Last(e => e.Event.Type == "key.revoked").Event;
        Assert.Equal("key:" + carol.KeyId, revoked.Subject);
        Assert.Equal("console", revoked.Details!.Value.GetProperty("via").GetString());
    }

    [Fact]
    public async Task PrincipalWithoutRoles_SeesNoAdminPage_AndAForgedPostWithAValidToken_Is403_AndChangesNothing()
    {
        var nobody = await enclave.AddUserAsync("norole");
        var victim = await enclave.AddUserAsync("victim", "user");
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, nobody.Key);

        foreach (var link in new[] { "Audit log", "Airlock", "Users and keys", "Alerts" })
        {
            Assert.Equal(0, await page.Locator($"nav >> text={link}").CountAsync());
        }

        foreach (var path in new[] { "/console/users", "/console/audit", "/console/airlock", "/console/alerts", "/console/audit/0" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(403, response!.Status);
        }

        // A forged revoke, with this session's own antiforgery token: the server refuses it by role.
        await page.GotoAsync("/console");
        var token = await page.GetAttributeAsync("input[name=__RequestVerificationToken]", "value");
        var forged = await context.APIRequest.PostAsync("/console/users", new APIRequestContextOptions
        {
            Form = FormOf(context, ("_handler", "revoke"), ("RevokeId", victim.KeyId), ("__RequestVerificationToken", token!)),
        });
        Assert.Equal(403, forged.Status);
        using var http = enclave.AdminClient(victim.Key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/v1/whoami")).StatusCode);
    }

    [Fact]
    public async Task PostWithoutTheAntiforgeryToken_IsRefused_AndChangesNothing()
    {
        var victim = await enclave.AddUserAsync("csrf-victim", "user");
        await using var context = await enclave.NewContextAsync();
        _ = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);

        var forged = await context.APIRequest.PostAsync("/console/users", new APIRequestContextOptions
        {
            Form = FormOf(context, ("_handler", "revoke"), ("RevokeId", victim.KeyId)),
        });

        Assert.Equal(400, forged.Status);
        using var http = enclave.AdminClient(victim.Key);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/admin/v1/whoami")).StatusCode);
        Assert.DoesNotContain(enclave.Entries(), e => e.Event.Type == "key.revoked" && e.Event.Subject == "key:" + victim.KeyId);
    }

    [Fact]
    public async Task EveryConsoleAnswer_CarriesTheStrictCsp_NoReferrer_AndNoFraming_AndThePagesLoadNothingFromOutside()
    {
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, enclave.AdminKey);
        var requested = new List<string>();
        page.Request += (_, request) => requested.Add(request.Url);
        foreach (var path in ConsoleTestPages.All)
        {
            var response = await page.GotoAsync(path);
            var headers = await response!.AllHeadersAsync();
            Assert.Equal(ConsoleEndpoints.ContentSecurityPolicy, headers["content-security-policy"]);
            Assert.Contains("frame-ancestors 'none'", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", headers["content-security-policy"], StringComparison.Ordinal);
            Assert.Equal("no-referrer", headers["referrer-policy"]);
            Assert.Equal("DENY", headers["x-frame-options"]);
            Assert.Equal("nosniff", headers["x-content-type-options"]);
            // No inline script; the only scripts are the enclave's own files (the playground's, the upload's).
            Assert.Equal(0, await page.Locator("script:not([src])").CountAsync());
            foreach (var source in await page.Locator("script[src]").EvaluateAllAsync<string[]>("s => s.map(e => e.getAttribute('src'))"))
            {
                Assert.Matches("^/console/[a-z-]+\\.js\\?v=[0-9a-f]{16}$", source);
            }
        }

        Assert.All(requested, url => Assert.StartsWith(enclave.BaseUrl, url, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Playground_SendsAChatAsTheSignedInUser_ThroughTheApiPath_AndStreamsTheAnswerIntoThePage()
    {
        var importer = await enclave.AddUserAsync("pia", "airlock-importer");
        var id = await ImportBundleAsync(importer.Key, "playground-chat");
        foreach (var approver in new[] { await enclave.AddUserAsync("pam", "airlock-approver"), await enclave.AddUserAsync("pat", "airlock-approver") })
        {
            using var http = enclave.AdminClient(approver.Key);
            using var approved = await http.PostAsync($"/admin/v1/airlock/imports/{id}/approve", null);
            Assert.True(approved.IsSuccessStatusCode, await approved.Content.ReadAsStringAsync());
        }

        var pilar = await enclave.AddUserAsync("pilar");
        await using var context = await enclave.NewContextAsync();
        var page = await ConsoleFixture.SignInAsync(context, pilar.Key);
        var blocked = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                blocked.Add(message.Text);
            }
        };
        await page.GotoAsync("/console/models");
        var row = page.Locator("#models tr", new PageLocatorOptions { HasText = "playground-chat" });
        Assert.Contains(id, await row.TextContentAsync(), StringComparison.Ordinal);
        Assert.Contains("UNCLASSIFIED", await row.TextContentAsync(), StringComparison.Ordinal);

        var before = enclave.Entries().Count;
        await page.SelectOptionAsync("#playground-model", "playground-chat");
        await page.FillAsync("#playground-message", "Say something.");
        await page.ClickAsync("#playground-send");
        await page.WaitForSelectorAsync("#playground-status:has-text('Done')");
        Assert.False(string.IsNullOrEmpty(await page.TextContentAsync("#playground-output")), "the streamed answer is in the page");
        Assert.EndsWith("/console/models", new Uri(page.Url).AbsolutePath, StringComparison.Ordinal);
        Assert.Empty(blocked);

        // The API's own entries, with pilar as the actor: admitted (streamed, this model) and completed.
        var entries = enclave.Entries().Skip(before).Select(e => e.Event).ToList();
        var admitted = Assert.Single(entries, e => e.Type == "request.admitted");
        Assert.Equal("user:pilar", admitted.Actor);
        Assert.Equal("playground-chat", admitted.Details!.Value.GetProperty("model").GetString());
        Assert.True(admitted.Details!.Value.GetProperty("stream").GetBoolean());
        var completed = Assert.Single(entries, e => e.Type == "request.completed");
        Assert.Equal("user:pilar", completed.Actor);
        Assert.Equal("console", admitted.Details!.Value.GetProperty("via").GetString());
        Assert.Equal("console", completed.Details!.Value.GetProperty("via").GetString());

        // The same chat through the API: the same types with the same fields, only via (the console) set apart.
        var apiBefore = enclave.Entries().Count;
        using (var http = enclave.AdminClient(pilar.Key))
        {
            using var api = await http.PostAsync("/v1/chat/completions", new StringContent(
                """{"model":"playground-chat","messages":[{"role":"user","content":"Say something."}],"stream":true}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(api.IsSuccessStatusCode, await api.Content.ReadAsStringAsync());
            _ = await api.Content.ReadAsStringAsync();
        }

        var apiEntries = enclave.Entries().Skip(apiBefore).Select(e => e.Event).ToList();
        foreach (var (console, type) in new[] { (admitted, "request.admitted"), (completed, "request.completed") })
        {
            var through = Assert.Single(apiEntries, e => e.Type == type);
            Assert.Equal(console.Actor, through.Actor);
            Assert.Equal(console.Subject, through.Subject);
            Assert.False(through.Details!.Value.TryGetProperty("via", out _), type + " through the API names no surface");
            Assert.Equal(
                FieldNames(through).Append("via").Order(StringComparer.Ordinal).ToArray(),
                FieldNames(console).Order(StringComparer.Ordinal).ToArray());
        }

        // Without its antiforgery token the chat is refused and nothing is sent.
        var beforeForged = enclave.Entries().Count;
        var forged = await context.APIRequest.PostAsync("/console/models/chat", new() { Form = FormOf(context, ("model", "playground-chat"), ("message", "forged")) });
        Assert.Equal(400, forged.Status);
        Assert.DoesNotContain(enclave.Entries().Skip(beforeForged), e => e.Event.Type == "request.admitted");
    }

    [Fact]
    public async Task BundleUpload_FromTheAirlockPage_ShowsProgress_AndRunsTheAdminImport_AsTheSignedInImporter()
    {
        var uma = await enclave.AddUserAsync("uma", "airlock-importer");
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 12 });
        var bundle = await enclave.CreateBundleAsync("model", "uploaded-chat", "1.0", modelDir, task: "chat");
        try
        {
            await using var context = await enclave.NewContextAsync();
            var page = await ConsoleFixture.SignInAsync(context, uma.Key);
            await page.GotoAsync("/console/airlock");
            await page.SetInputFilesAsync("#upload-file", bundle);
            await page.ClickAsync("#upload-send");
            await page.WaitForSelectorAsync("#upload-status:has-text('Imported')");
            Assert.Equal("100", await page.EvalOnSelectorAsync<string>("#upload-progress", "p => String(p.value)"));
            var id = await page.TextContentAsync("#upload-import");

            // The admin API's import: verified, waiting for approval, with uma as its importer.
            using var http = enclave.AdminClient();
            var record = JsonNode.Parse(await http.GetStringAsync($"/admin/v1/airlock/imports/{id}"))!;
            Assert.Equal("uploaded-chat", record["name"]!.GetValue<string>());
            Assert.Equal("verified", record["state"]!.GetValue<string>());
            // Its entries are the API upload's, naming the console.
            var trail = enclave.Entries().Where(e => e.Event.Subject == "import:" + id).Select(e => e.Event).ToList();
            Assert.Equal(["import.received", "import.verified"], trail.Select(e => e.Type).ToArray());
            Assert.All(trail, e => Assert.Equal("user:uma", e.Actor));
            Assert.All(trail, e => Assert.Equal("console", e.Details!.Value.GetProperty("via").GetString()));
            Assert.Equal("stream", trail[0].Details!.Value.GetProperty("source").GetString());

            // A bundle the airlock refuses (cut short) is the API's import.rejected, naming the console too.
            var bytes = await File.ReadAllBytesAsync(bundle);
            var truncated = Path.Combine(Path.GetDirectoryName(bundle)!, "truncated.tar");
            await File.WriteAllBytesAsync(truncated, bytes[..(bytes.Length / 2)]);
            var rejectedBefore = enclave.Entries().Count;
            await page.GotoAsync("/console/airlock");
            await page.SetInputFilesAsync("#upload-file", truncated);
            await page.ClickAsync("#upload-send");
            await page.WaitForSelectorAsync("#upload-status:has-text('refused')");
            var rejected = Assert.Single(enclave.Entries().Skip(rejectedBefore).Select(e => e.Event), e => e.Type == "import.rejected");
            Assert.Equal("user:uma", rejected.Actor);
            Assert.Equal("console", rejected.Details!.Value.GetProperty("via").GetString());

            // An approver may not upload (403), and an upload without the antiforgery header changes nothing (400).
            var forged = await context.APIRequest.PostAsync("/console/airlock/upload", new() { DataByte = await File.ReadAllBytesAsync(bundle), Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-tar" } });
            Assert.Equal(400, forged.Status);
            var approver = await enclave.AddUserAsync("uli", "airlock-approver");
            await using var approverContext = await enclave.NewContextAsync();
            var approverPage = await ConsoleFixture.SignInAsync(approverContext, approver.Key);
            await approverPage.GotoAsync("/console/airlock");
            Assert.Equal(0, await approverPage.Locator("#upload").CountAsync());
            var token = await approverPage.GetAttributeAsync("input[name=__RequestVerificationToken]", "value");
            var refused = await approverContext.APIRequest.PostAsync("/console/airlock/upload", new()
            {
                DataByte = await File.ReadAllBytesAsync(bundle),
                Headers = new Dictionary<string, string> { ["Content-Type"] = "application/x-tar", ["RequestVerificationToken"] = token! },
            });
            Assert.Equal(403, refused.Status);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(bundle)!, recursive: true);
        }
    }

    private Task<string> ImportBundleAsync(string importerKey, string name)
    {
        var modelDir = Directory.CreateTempSubdirectory("enclave-console-model-").FullName;
        ModelForge.ForgeDecoder(modelDir, new ForgeOptions { Seed = 11 });
        return enclave.ImportBundleAsync(importerKey, "model", name, "1.0", modelDir, task: "chat");
    }

    private static IEnumerable<string> FieldNames(AuditEvent entry) => entry.Details!.Value.EnumerateObject().Select(p => p.Name);

    private static IFormData FormOf(IBrowserContext context, params (string Name, string Value)[] fields)
    {
        var form = context.APIRequest.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Set(name, value);
        }

        return form;
    }
}
