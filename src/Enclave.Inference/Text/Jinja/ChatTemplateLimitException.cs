namespace Enclave.Inference.Text.Jinja;

/// <summary>Parsing or rendering went past <see cref="ChatTemplateLimits"/>; turned into <see cref="TokenizerError.TemplateLimitExceeded"/>.</summary>
internal sealed class ChatTemplateLimitException(string message) : Exception(message);
