using System.Diagnostics;
using System.Text.Json.Nodes;
using Enclave.Inference.Upstream;

namespace Enclave.Inference.Tests.Upstream;

internal static class UpstreamTestKit
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static UpstreamBackendOptions OptionsFor(VllmStub stub, string classification = "UNCLASSIFIED") => new()
    {
        Name = stub.Name,
        BaseUrl = stub.BaseUrl,
        Models = [stub.Model],
        Labels = new UpstreamLabels { Classification = classification, Jurisdiction = "FR" },
        Timeout = TimeSpan.FromSeconds(30),
        HealthCheckInterval = TimeSpan.FromSeconds(10),
        HealthCheckTimeout = TimeSpan.FromSeconds(5),
    };

    public static UpstreamOptions RouterOptions(params UpstreamBackendOptions[] backends) => new()
    {
        Backends = backends,
        RetryBackoff = TimeSpan.Zero,
        MaxRetryWait = TimeSpan.FromSeconds(10),
        MaxAttempts = 4,
    };

    public static JsonObject ChatRequest(string model = "stub-model") => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Say hello" }),
        ["max_tokens"] = 16,
    };

    public static JsonObject StreamingChatRequest(string model = "stub-model")
    {
        var request = ChatRequest(model);
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        return request;
    }

    public static JsonObject CompletionRequest(string model = "stub-model") => new()
    {
        ["model"] = model,
        ["prompt"] = "Hello",
        ["max_tokens"] = 3,
    };

    public static string ContentOf(JsonObject chatResponse) =>
        chatResponse["choices"]![0]!["message"]!["content"]!.GetValue<string>();

    public static async Task<List<JsonObject>> ToListAsync(IAsyncEnumerable<JsonObject> stream)
    {
        var chunks = new List<JsonObject>();
        await foreach (var chunk in stream)
        {
            chunks.Add(chunk);
        }

        return chunks;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after a generous deadline (never a timing assertion).</summary>
    public static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Awaits a task that must finish; fails instead of hanging when it does not.</summary>
    public static Task<T> Within<T>(Task<T> task) => task.WaitAsync(Deadline);

    public static Task Within(Task task) => task.WaitAsync(Deadline);

    public static async Task<bool> Within(ValueTask<bool> task) => await task.AsTask().WaitAsync(Deadline);
}
