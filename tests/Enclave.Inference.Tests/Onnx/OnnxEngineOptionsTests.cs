using Enclave.Inference.Onnx;

namespace Enclave.Inference.Tests.Onnx;

public sealed class OnnxEngineOptionsTests
{
    [Fact]
    public void Defaults_AreValid_AndBatchContinuously()
    {
        var options = new OnnxEngineOptions();
        Assert.Empty(options.Problems());
        Assert.True(options.ContinuousBatching);
        Assert.Equal(256, options.PrefillChunkTokens);
    }

    [Fact]
    public void Problems_ListsEveryInvalidOption_AndLoadRefusesThem()
    {
        var options = new OnnxEngineOptions { PrefillChunkTokens = 0, MaxConcurrentSequences = 0, RetryAfter = TimeSpan.FromSeconds(-1), IntraOpThreads = -2 };
        var problems = options.Problems();
        Assert.Equal(4, problems.Count);
        Assert.Contains("PrefillChunkTokens must be 1..1048576 (was 0)", problems);
        Assert.Contains("MaxConcurrentSequences must be at least 1 (was 0)", problems);
        Assert.Contains(problems, p => p.StartsWith("RetryAfter must not be negative", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("IntraOpThreads", StringComparison.Ordinal));
        Assert.Single(new OnnxEngineOptions { PrefillChunkTokens = (1 << 20) + 1 }.Problems());
        var e = Assert.Throws<ArgumentException>(() => OnnxDecoderModel.Load("/nonexistent", options));
        Assert.Contains("PrefillChunkTokens must be 1..1048576", e.Message, StringComparison.Ordinal);
    }
}
