namespace Enclave.Inference.Text.Jinja;

/// <summary>The template called <c>raise_exception(message)</c>; turned into <see cref="TokenizerError.TemplateRaised"/>.</summary>
internal sealed class ChatTemplateRaisedException(string message) : Exception(message);
