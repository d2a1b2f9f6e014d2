using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;
using Enclave.Inference.Upstream;
using Enclave.Policy.Decisions;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Policy.Requests;
using Enclave.Server.Hosting;
using Enclave.Server.Policy;
using FsCheck.Xunit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Enclave.Policy.Tests;

/// <summary>
/// No allowed route ever sends a request to a backend whose accreditation does not dominate its label (or whose
/// jurisdiction is not allowed for it), whatever the backends' labels and whichever of them fail: generated
/// backends behind one real loopback server, requests decided by <see cref="EnclavePolicy"/> and sent through the
/// routes <see cref="EnclaveConfiguration.UpstreamRoutes"/> builds over the real <see cref="UpstreamRouter"/>, exactly
/// as the server's request handler does; the server records which backend received what.
/// </summary>
public sealed class RoutingProperties : IAsyncLifetime
{
    private static readonly LabelScheme Scheme = LabelScheme.Default;
    private WebApplication _upstream = null!;
    private string _root = string.Empty;
    private readonly ConcurrentQueue<(string Backend, string Body)> _received = new();
    private volatile HashSet<string> _failing = [];

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _upstream = builder.Build();
        _upstream.MapPost("/{backend}/v1/chat/completions", async (string backend, HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            _received.Enqueue((backend, await reader.ReadToEndAsync()));
            if (_failing.Contains(backend))
            {
                return Results.Json(new JsonObject { ["error"] = new JsonObject { ["message"] = "down", ["type"] = "server_error" } }, statusCode: 500);
            }

            return Results.Json(new JsonObject
            {
                ["id"] = "x",
                ["object"] = "chat.completion",
                ["created"] = 1,
                ["model"] = "m",
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = backend }, ["finish_reason"] = "stop" }),
            });
        });
        await _upstream.StartAsync();
        _root = _upstream.Urls.First();
    }

    public async Task DisposeAsync()
    {
        await _upstream.StopAsync();
        await _upstream.DisposeAsync();
    }

    [Property(MaxTest = 150)]
    public async Task<bool> NoAllowedRoute_ReachesABackendNotAccreditedForTheRequest(byte level, byte compartments, byte releasability, bool unrestricted, byte[] backendSpecs, byte failMask)
    {
        var label = Label(level, compartments, releasability, unrestricted);
        var specs = (backendSpecs ?? []).Take(5).ToArray();
        if (specs.Length == 0)
        {
            specs = [0];
        }

        var backends = specs.Select((s, i) => (Name: $"b{i}", Accreditation: Label(s, (byte)(s >> 2), (byte)(s >> 4), (s & 0x40) != 0), Jurisdiction: (s & 0x80) != 0 ? "US" : "local")).ToArray();
        var failing = backends.Where((_, i) => (failMask & (1 << i)) != 0).Select(b => b.Name).ToHashSet();
        var options = new UpstreamOptions
        {
            MaxAttempts = 20,
            RetryBackoff = TimeSpan.Zero,
            MaxRetryWait = TimeSpan.Zero,
            Backends =
            [
                .. backends.Select(b => new UpstreamBackendOptions
                {
                    Name = b.Name,
                    BaseUrl = $"{_root}/{b.Name}/v1",
                    Models = ["m"],
                    MaxRetries = 0,
                    Labels = new UpstreamLabels { Classification = Scheme.FormatBanner(b.Accreditation), Jurisdiction = b.Jurisdiction },
                }),
            ],
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Models:m:Kind"] = "chat",
            ["Models:m:Label"] = Scheme.FormatBanner(label),
            ["Policy:Jurisdictions:UNCLASSIFIED:0"] = "local",
            ["Policy:Jurisdictions:UNCLASSIFIED:1"] = "US",
            ["Policy:Jurisdictions:CUI:0"] = "local",
            ["Policy:Jurisdictions:SECRET:0"] = "local",
            ["Policy:Jurisdictions:TOP SECRET:0"] = "local",
        }).Build();
        using var router = new UpstreamRouter(options);
        var catalog = new ModelCatalog(EnclaveConfiguration.UpstreamRoutes(router, options, configuration));
        var policy = EnclavePolicy.Create(configuration, catalog);
        catalog.TryResolve("m", out var route);
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "user:p"), new Claim(EnclaveClaims.Clearance, Scheme.FormatBanner(label))], "test"));
        var body = new JsonObject { ["model"] = "m", ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };

        bool Passes((string Name, SecurityLabel Accreditation, string Jurisdiction) b) =>
            b.Accreditation.Dominates(label) && (b.Jurisdiction == "local" || label.Level == 0);

        _received.Clear();
        _failing = failing;
        var outcome = policy.Evaluate(user, Scheme.FormatBanner(label), body, route);
        var anyPasses = backends.Any(Passes);
        if (outcome.Allowed != anyPasses)
        {
            return false;
        }

        string? answeredBy = null;
        if (outcome.Allowed)
        {
            try
            {
                var response = await route.SelectBackend(outcome.Selection()).ChatAsync(body, CancellationToken.None);
                answeredBy = response.Body["choices"]![0]!["message"]!["content"]!.GetValue<string>();
            }
            catch (BackendException)
            {
                // Every allowed backend failed.
            }
        }

        var reached = _received.Select(r => r.Backend).ToHashSet();
        var allowedAndUp = backends.Where(b => Passes(b) && !failing.Contains(b.Name)).Select(b => b.Name).ToHashSet();
        return reached.All(name => Passes(backends.Single(b => b.Name == name)))
            && outcome.Backends.All(name => Passes(backends.Single(b => b.Name == name)))
            && (allowedAndUp.Count == 0 ? answeredBy is null : answeredBy is not null && allowedAndUp.Contains(answeredBy));
    }

    /// <summary>A label of the default scheme that formats to a parseable marking (a REL TO set is never empty).</summary>
    private static SecurityLabel Label(byte level, byte compartments, byte releasability, bool unrestricted)
    {
        var rel = releasability & 0b111UL;
        return new SecurityLabel(level % 4, compartments & 0b11UL, unrestricted, rel == 0 ? 1UL : rel);
    }
}
