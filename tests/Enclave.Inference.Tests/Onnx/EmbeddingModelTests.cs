using Enclave.Inference.Backends;

namespace Enclave.Inference.Tests.Onnx;

public sealed class EmbeddingModelTests(ForgedModelsFixture models) : IClassFixture<ForgedModelsFixture>
{
    [Fact]
    public async Task Embeddings_AreUnitLength_Deterministic_AndDistinct()
    {
        IReadOnlyList<int>[] inputs = [[5, 17, 200, 31], [300, 2, 9], [5, 17, 200, 32]];
        var first = await models.Encoder.EmbedAsync(inputs);
        var second = await models.Encoder.EmbedAsync(inputs);

        Assert.Equal(3, first.Length);
        foreach (var embedding in first)
        {
            Assert.Equal(64, embedding.Length);
            Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 5);
        }

        Assert.Equal(first, second);
        Assert.NotEqual(first[0], first[2]);
    }

    [Fact]
    public async Task MeanPooling_IgnoresPadding_SoABatchEqualsSingleInputs()
    {
        IReadOnlyList<int> shortInput = [7, 8];
        IReadOnlyList<int> longInput = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        var alone = (await models.Encoder.EmbedAsync([shortInput]))[0];
        var batched = (await models.Encoder.EmbedAsync([longInput, shortInput]))[1];
        for (var d = 0; d < alone.Length; d++)
        {
            Assert.Equal(alone[d], batched[d], 4);
        }
    }

    [Fact]
    public async Task EmbedTexts_TokenizesAndCountsTokens()
    {
        var (embeddings, tokens) = await models.Encoder.EmbedTextsAsync(["hi", "é"], models.Tokenizer);
        Assert.Equal(2, embeddings.Length);
        Assert.Equal(4, tokens);
    }

    [Fact]
    public async Task InvalidInputs_Are400()
    {
        var empty = await Assert.ThrowsAsync<BackendException>(() => models.Encoder.EmbedAsync([Array.Empty<int>()]));
        Assert.Equal(400, empty.StatusCode);
        var tooLong = await Assert.ThrowsAsync<BackendException>(() => models.Encoder.EmbedAsync([new int[65]]));
        Assert.Contains("1 to 64", tooLong.Message, StringComparison.Ordinal);
        var outside = await Assert.ThrowsAsync<BackendException>(() => models.Encoder.EmbedAsync([new[] { 512 }]));
        Assert.Contains("vocabulary", outside.Message, StringComparison.Ordinal);
    }
}
