namespace Enclave.Inference.Text.Jinja;

/// <summary>A template does not lex or parse; turned into <see cref="TokenizerError.TemplateSyntax"/> at the public surface.</summary>
internal sealed class JinjaSyntaxException(string message) : Exception(message);
