namespace Enclave.Inference.Text;

/// <summary>
/// A tokenizer that can say which bytes each token adds to a decoded text (byte-level BPE maps its characters back to
/// bytes, SentencePiece's byte fallback tokens are one byte each). Constrained decoding matches tokens by these bytes;
/// a tokenizer without it is read through <see cref="ITextTokenizer.Decode"/>, one token at a time.
/// </summary>
public interface ITokenBytes
{
    /// <summary>The token's bytes in the middle of a text, or null for a token that writes no text (special tokens).</summary>
    byte[]? TokenBytes(int id);
}
