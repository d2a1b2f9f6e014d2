using Enclave.Core;

namespace Enclave.Inference.Text;

/// <summary>
/// A tokenizer, its configuration or a chat template was rejected, or text or a conversation could not be processed.
/// <see cref="Reason"/> says which; the message says what was wrong, where, and what to do.
/// </summary>
public sealed class TokenizerException : Exception, IEnclaveError<TokenizerError>
{
    public TokenizerException(TokenizerError reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>What kind of problem this is.</summary>
    public TokenizerError Reason { get; }
}
