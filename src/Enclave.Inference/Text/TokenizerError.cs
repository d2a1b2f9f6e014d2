namespace Enclave.Inference.Text;

/// <summary>Why a tokenizer, its configuration or a chat template was rejected; stable for operators and tests to match.</summary>
public enum TokenizerError
{
    /// <summary>A required file (<c>tokenizer.json</c>) is missing from the model directory.</summary>
    FileMissing,

    /// <summary>A file is larger than <see cref="TokenizerLimits"/> allows.</summary>
    FileTooLarge,

    /// <summary>A file is not well-formed JSON (truncated, bad syntax, too deep).</summary>
    MalformedJson,

    /// <summary>The JSON is well-formed but a field is missing, has the wrong type, or an impossible value.</summary>
    InvalidDefinition,

    /// <summary>The tokenizer uses a model, normalizer, pre-tokenizer, post-processor or decoder this engine does not implement.</summary>
    Unsupported,

    /// <summary>The vocabulary, merges or added tokens exceed <see cref="TokenizerLimits"/>.</summary>
    LimitExceeded,

    /// <summary>Text cannot be encoded: longer than allowed, or holds a character the vocabulary cannot express.</summary>
    UnencodableText,

    /// <summary>The chat template does not parse.</summary>
    TemplateSyntax,

    /// <summary>The chat template failed while rendering (unknown filter, bad operand, undefined call...).</summary>
    TemplateRuntime,

    /// <summary>The chat template called <c>raise_exception</c>: the conversation is not one the model accepts.</summary>
    TemplateRaised,

    /// <summary>Rendering the chat template went past <see cref="ChatTemplateLimits"/> (output size, loop iterations, depth).</summary>
    TemplateLimitExceeded,
}
