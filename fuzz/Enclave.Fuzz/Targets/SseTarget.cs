using System.Text.Json;
using Enclave.Inference.Upstream;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// The upstream server-sent-events reader, as <c>OpenAiUpstreamBackend</c> uses it: each event's data is parsed as
/// a JSON object unless it is <c>[DONE]</c>. Rejections: <see cref="InvalidDataException"/> (line or event over
/// the bound) and <see cref="JsonException"/> (an event that is not a JSON object), both answered 502 upstream.
/// </summary>
internal static class SseTarget
{
    private const int MaxLineBytes = 4096;

    public static Harness Harness { get; } = new()
    {
        Name = "sse",
        Parser = "Enclave.Inference.Upstream.SseEventReader",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("chunks.txt", "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n: keep-alive\n\ndata: [DONE]\n\n"),
            Seeds.Text("crlf.txt", "event: error\r\ndata: {\"error\":{\"message\":\"x\"}}\r\n\r\nid: 7\rretry: 10\rdata:a\rdata:b\r\r"),
            Seeds.Text("multiline.txt", "data:{\"a\":\ndata:1}\n\ndata\n\nevent:\n\n"),
        ],
    };

    private static void Run(byte[] input)
    {
        using var stream = new MemoryStream(input, writable: false);
        using var reader = new SseEventReader(stream, MaxLineBytes);
        try
        {
            while (reader.ReadEventAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult())
            {
                if (reader.Data.Length > MaxLineBytes)
                {
                    throw new FuzzFindingException($"an event's data is {reader.Data.Length} bytes, past the bound of {MaxLineBytes}");
                }

                if (!reader.Data.Span.SequenceEqual("[DONE]"u8))
                {
                    try
                    {
                        UpstreamJson.ParseObject(reader.Data.Span);
                    }
                    catch (JsonException)
                    {
                    }
                }
            }
        }
        catch (InvalidDataException)
        {
        }
    }
}
