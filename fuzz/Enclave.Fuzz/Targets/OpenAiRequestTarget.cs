using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Inference.Backends;
using Enclave.Inference.Onnx;
using Enclave.Policy.Requests;
using Enclave.Server.Policy;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// OpenAI request bodies, along the path a <c>/v1/chat/completions</c>, <c>/v1/completions</c> or
/// <c>/v1/embeddings</c> body takes before any model runs: the server's parse (<see cref="StrictJson"/>, as <c>RequestHandler.ReadBodyAsync</c>
/// does it), the handler's reads of <c>model</c>, the input and <c>stream</c>, the policy's walk over the request's
/// strings (<see cref="RequestText"/>), the canonical bytes the ledger digests, and the built-in engine's parameter
/// reader (<see cref="OpenAiRequest"/>). An answer of 400 is a rejection (<see cref="JsonException"/>, a
/// <see cref="BackendException"/> with status 400); any other exception would be a 500 and is a finding.
/// </summary>
internal static class OpenAiRequestTarget
{
    public static Harness Harness { get; } = new()
    {
        Name = "openai-request",
        Parser = "Enclave.Server request bodies (/v1), Enclave.Policy.Requests.RequestText, Enclave.Inference.Onnx.OpenAiRequest",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("chat.json", """{"model":"qwen3","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi"}]}],"temperature":0.7,"top_p":0.9,"top_k":40,"max_tokens":64,"stop":["\n\n","END"],"stream":true,"stream_options":{"include_usage":true},"seed":42,"n":1}"""),
            Seeds.Text("completion.json", """{"model":"qwen3","prompt":[1,2,3],"max_completion_tokens":5,"logprobs":false,"echo":false,"ignore_eos":true,"suffix":""}"""),
            Seeds.Text("embeddings.json", """{"model":"e5","input":["a","b"],"encoding_format":"float","user":"u"}"""),
            Seeds.Text("tools.json", """{"model":"m","messages":[{"role":"user","content":"x"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object","properties":{"a":{"type":"integer"}}},"strict":true}}],"tool_choice":{"type":"function","function":{"name":"f"}},"parallel_tool_calls":false,"n":2,"logprobs":true,"top_logprobs":3,"logit_bias":{"5":-100},"presence_penalty":0.5,"frequency_penalty":-0.5,"user":"u"}"""),
            Seeds.Text("classified.json", """{"model":"m","messages":[{"role":"user","content":"(S//NF) text","name":"x"}],"metadata":{"classification":"SECRET"},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"""),
        ],
    };

    private static void Run(byte[] input)
    {
        // The server's parse (RequestHandler.ReadBodyAsync: StrictJson.ParseElement) must refuse exactly what
        // StrictJson.Parse refuses, with its message, and accept the same document: a differential, checked here.
        string? nodeRefusal = null, elementRefusal = null;
        JsonNode? parsed = null;
        JsonElement root = default;
        try
        {
            parsed = StrictJson.Parse(input, maxDepth: 64);
        }
        catch (JsonException e)
        {
            nodeRefusal = e.Message;
        }

        try
        {
            root = StrictJson.ParseElement(input, maxDepth: 64);
        }
        catch (JsonException e)
        {
            elementRefusal = e.Message;
        }

        if (!string.Equals(nodeRefusal, elementRefusal, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"StrictJson.Parse and ParseElement disagree: '{nodeRefusal}' against '{elementRefusal}'");
        }

        if (parsed is not JsonObject body)
        {
            return; // 400: not valid JSON, or not a JSON object
        }

        if (!CanonicalJson.Canonicalize(parsed).AsSpan().SequenceEqual(CanonicalJson.Canonicalize(root))
            || !RequestText.Collect(root, 1000).Texts.SequenceEqual(RequestText.Collect(body, 1000).Texts))
        {
            throw new InvalidOperationException("the element and the node of one body read differently");
        }

        // RequestHandler.HandleAsync: model, then the input for each operation, then stream.
        if (body["model"] is not JsonValue modelValue || !modelValue.TryGetValue<string>(out var model) || model.Length == 0)
        {
            return;
        }

        foreach (var inputName in new[] { "messages", "prompt", "input" })
        {
            if (body[inputName] is { } node)
            {
                // The ledger's prompt digest is taken over the canonical bytes of the input.
                CanonicalJson.Canonicalize(node);
            }
        }

        _ = body["stream"] is JsonValue s && s.TryGetValue<bool>(out var streaming) && streaming;

        // The policy reads every string of the request (labels, egress rules) and may rewrite them.
        var text = RequestText.Collect(body, 1000);
        if (text.Texts.Count > 0)
        {
            RequestText.PathOf(body, text.Texts.Count - 1);
            RequestText.Replace(body, [.. text.Texts.Select(t => t.ToUpperInvariant())]);
        }

        // The built-in engine's parameters.
        try
        {
            new OpenAiRequest(body).Sampling(maxStopSequences: 4);
            new OpenAiRequest(body).String("suffix");
        }
        catch (BackendException e) when (e.StatusCode == 400)
        {
        }

        foreach (var chat in new[] { true, false })
        {
            try
            {
                var reader = new OpenAiRequest(body);
                reader.CheckFields(chat);
                reader.Choices();
                reader.Sampling(maxStopSequences: 4, chat);
            }
            catch (BackendException e) when (e.StatusCode == 400)
            {
            }
        }

        // The built-in engine's tools, tool_choice and parallel_tool_calls.
        try
        {
            Enclave.Inference.Tools.ToolRequest.Read(body);
        }
        catch (BackendException e) when (e.StatusCode == 400)
        {
        }
    }
}
