namespace Enclave.Inference.Text.Jinja;

/// <summary>A template failed while rendering; turned into <see cref="TokenizerError.TemplateRuntime"/> at the public surface.</summary>
internal sealed class JinjaRuntimeException(string message) : Exception(message);
