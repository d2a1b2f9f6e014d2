using System.Text;
using Enclave.Inference.Upstream.Aws;

namespace Enclave.Inference.Tests.Upstream.Aws;

public sealed class SigV4AndEventStreamTests
{
    [Fact]
    public void SigV4_MatchesAwsPublishedExample_IamListUsers()
    {
        // The worked example of AWS's "Signature Version 4 signing process" (IAM ListUsers, 2015-08-30T12:36:00Z).
        var credentials = new AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
        var headers = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["host"] = "iam.amazonaws.com",
            ["x-amz-date"] = "20150830T123600Z",
        };
        var emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

        var authorization = SigV4Signer.Authorization(
            "GET", new Uri("https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08"), headers, emptyPayloadHash, credentials, "us-east-1", "iam", "20150830T123600Z");

        Assert.Equal(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            authorization);
    }

    [Fact]
    public void SigV4_CanonicalPath_EncodesTheEncodedModelIdAgain()
    {
        var uri = new Uri("https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");

        Assert.Equal("/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse", SigV4Signer.CanonicalPath(uri.AbsolutePath));
    }

    [Fact]
    public void AwsCredentials_ParseKeyIdSecretAndToken_AndNeverPrintTheSecret()
    {
        var parsed = AwsCredentials.Parse("AKIDEXAMPLE:secret/with+chars:token");

        Assert.Equal(new AwsCredentials("AKIDEXAMPLE", "secret/with+chars", "token"), parsed);
        Assert.DoesNotContain("secret", parsed!.ToString(), StringComparison.Ordinal);
        Assert.Null(AwsCredentials.Parse("just-one-part"));
        Assert.Null(AwsCredentials.Parse("a::b"));
    }

    [Fact]
    public void Crc32_KnownAnswer() => Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));

    [Fact]
    public async Task EventStream_ReadsMessagesWithHeadersAndPayloads_ThenEndsCleanly()
    {
        var first = AwsEventStreamReader.Encode([(":event-type", "messageStart"), (":content-type", "application/json"), (":message-type", "event")], "{\"role\":\"assistant\"}"u8);
        var second = AwsEventStreamReader.Encode([(":exception-type", "throttlingException"), (":message-type", "exception")], "{\"message\":\"slow down\"}"u8);
        using var reader = new AwsEventStreamReader(new MemoryStream([.. first, .. second]), 1024);

        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal("messageStart", reader.EventName);
        Assert.Equal("{\"role\":\"assistant\"}", Encoding.UTF8.GetString(reader.Data.Span));
        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal("exception:throttlingException", reader.EventName);
        Assert.False(await reader.ReadEventAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EventStream_KnownAnswer_PayloadWithOneStringHeader()
    {
        // The "payload_one_str_header" vector of the AWS event-stream test suite (aws-c-event-stream): total 0x3D,
        // headers 0x20, prelude CRC 0x07FD8396, message CRC 0x8D9C08B1.
        var message = AwsEventStreamReader.Encode([("content-type", "application/json")], "{'foo':'bar'}"u8);

        Assert.Equal(0x3D, message.Length);
        Assert.Equal([0x00, 0x00, 0x00, 0x3D, 0x00, 0x00, 0x00, 0x20, 0x07, 0xFD, 0x83, 0x96], message[..12]);
        Assert.Equal([0x8D, 0x9C, 0x08, 0xB1], message[^4..]);
        using var reader = new AwsEventStreamReader(new MemoryStream(message), 1024);
        Assert.True(await reader.ReadEventAsync(CancellationToken.None));
        Assert.Equal("application/json", reader.Headers["content-type"]);
        Assert.Equal("{'foo':'bar'}", Encoding.UTF8.GetString(reader.Data.Span));
    }

    [Theory]
    [InlineData(5)]   // inside the prelude's lengths
    [InlineData(20)]  // inside a header
    [InlineData(-6)]  // inside the payload
    [InlineData(-1)]  // inside the message CRC
    public async Task EventStream_OneFlippedByte_IsRefused(int position)
    {
        var message = AwsEventStreamReader.Encode([(":event-type", "contentBlockDelta")], "{\"delta\":{\"text\":\"hi\"}}"u8);
        message[position < 0 ? message.Length + position : position] ^= 0x01;
        using var reader = new AwsEventStreamReader(new MemoryStream(message), 1024);

        await Assert.ThrowsAsync<InvalidDataException>(async () => await reader.ReadEventAsync(CancellationToken.None));
    }

    [Fact]
    public async Task EventStream_TruncatedOversizedAndDuplicateHeaderMessages_AreRefused()
    {
        var message = AwsEventStreamReader.Encode([(":event-type", "messageStop")], "{\"stopReason\":\"end_turn\"}"u8);
        var duplicate = AwsEventStreamReader.Encode([(":event-type", "a"), (":event-type", "b")], "{}"u8);

        using var truncated = new AwsEventStreamReader(new MemoryStream(message[..^3]), 1024);
        using var oversized = new AwsEventStreamReader(new MemoryStream(message), 32);
        using var twice = new AwsEventStreamReader(new MemoryStream(duplicate), 1024);

        Assert.Contains("ended inside", (await Assert.ThrowsAsync<InvalidDataException>(async () => await truncated.ReadEventAsync(CancellationToken.None))).Message, StringComparison.Ordinal);
        Assert.Contains("allowed 16..32", (await Assert.ThrowsAsync<InvalidDataException>(async () => await oversized.ReadEventAsync(CancellationToken.None))).Message, StringComparison.Ordinal);
        Assert.Contains("appears twice", (await Assert.ThrowsAsync<InvalidDataException>(async () => await twice.ReadEventAsync(CancellationToken.None))).Message, StringComparison.Ordinal);
    }
}
