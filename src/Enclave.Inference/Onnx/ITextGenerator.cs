using Enclave.Inference.Text;

namespace Enclave.Inference.Onnx;

/// <summary>
/// A loaded causal LM the engine generates with, whatever runs it: ONNX Runtime (<see cref="OnnxDecoderModel"/>) or
/// llama.cpp (<see cref="Gguf.GgufDecoderModel"/>). Both share the engine's generation loop, so sampling, stop
/// sequences, structured outputs, bounds and 503s behave the same.
/// </summary>
public interface ITextGenerator
{
    /// <summary>Admission of this model's sequences.</summary>
    SequenceScheduler Scheduler { get; }

    /// <summary>
    /// Generates text after <paramref name="promptIds"/>: pieces that never split a character and never contain a stop
    /// sequence, then a last chunk with the finish reason and token counts.
    /// </summary>
    /// <exception cref="Backends.BackendException">400 for an invalid request, 503 when the model is at capacity.</exception>
    IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, CancellationToken cancellationToken = default);

    /// <summary>
    /// Generates <paramref name="choices"/> texts after <paramref name="promptIds"/> (OpenAI's <c>n</c>), one after the
    /// other; chunks carry their choice's <see cref="GenerationChunk.Index"/> and each choice ends with its own last chunk.
    /// </summary>
    /// <exception cref="Backends.BackendException">400 for an invalid request, 503 when the model is at capacity.</exception>
    IAsyncEnumerable<GenerationChunk> GenerateTextAsync(IReadOnlyList<int> promptIds, ITextTokenizer tokenizer, SamplingOptions sampling, int choices, CancellationToken cancellationToken = default);
}

/// <summary>A loaded embedding model, whatever runs it.</summary>
public interface ITextEmbedder
{
    /// <summary>Length of each embedding.</summary>
    int Dimensions { get; }

    /// <summary>One normalised embedding per input.</summary>
    Task<float[][]> EmbedAsync(IReadOnlyList<IReadOnlyList<int>> inputs, CancellationToken cancellationToken = default);
}
