using System.Text;
using System.Text.Json.Nodes;
using Enclave.Inference.Backends;

namespace Enclave.Inference.Tests.Tools;

/// <summary>A streamed chat answer folded back into its content, calls and finish reason, checking the delta shapes on the way.</summary>
internal static class ToolStreams
{
    /// <summary>The answer as text: content, each call's name and arguments, the finish reason (call IDs left out).</summary>
    public static string Shape(string content, IEnumerable<(string Name, string Arguments)> calls, string? finish) =>
        $"{content}|{string.Join("|", calls.Select(c => c.Name + ":" + c.Arguments))}|{finish}";

    /// <summary>The unstreamed answer's shape.</summary>
    public static string Shape(JsonNode choice)
    {
        var message = choice["message"]!;
        var calls = message["tool_calls"]?.AsArray().Select(c => ((string)c!["function"]!["name"]!, (string)c["function"]!["arguments"]!)) ?? [];
        return Shape((string?)message["content"] ?? string.Empty, calls, (string?)choice["finish_reason"]);
    }

    /// <summary>Streams <paramref name="request"/> and folds its deltas, asserting OpenAI's shapes (role first; per call its ID, type and name, then arguments).</summary>
    public static async Task<string> FoldAsync(IInferenceBackend backend, JsonObject request)
    {
        request["stream"] = true;
        var content = new StringBuilder();
        var calls = new List<(string Name, StringBuilder Arguments)>();
        string? finish = null;
        var chunks = 0;
        await foreach (var chunk in backend.ChatStreamAsync(request, CancellationToken.None))
        {
            var delta = chunk["choices"]![0]!["delta"]!.AsObject();
            if (chunks++ == 0)
            {
                Assert.Equal("assistant", (string?)delta["role"]);
                continue;
            }

            finish ??= (string?)chunk["choices"]![0]!["finish_reason"];
            content.Append((string?)delta["content"]);
            foreach (var call in delta["tool_calls"]?.AsArray() ?? [])
            {
                var index = (int)call!["index"]!;
                if (call["id"] is not null)
                {
                    // A call's first delta: its ID, type and name, and no arguments yet; calls come in order.
                    Assert.Equal(calls.Count, index);
                    Assert.StartsWith("call_", (string?)call["id"], StringComparison.Ordinal);
                    Assert.Equal("function", (string?)call["type"]);
                    Assert.Equal(string.Empty, (string?)call["function"]!["arguments"]);
                    calls.Add(((string)call["function"]!["name"]!, new StringBuilder()));
                }
                else
                {
                    Assert.Null(call["function"]!["name"]);
                    calls[index].Arguments.Append((string?)call["function"]!["arguments"]);
                }
            }
        }

        return Shape(content.ToString(), calls.Select(c => (c.Name, c.Arguments.ToString())), finish);
    }
}
