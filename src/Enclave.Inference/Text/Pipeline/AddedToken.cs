namespace Enclave.Inference.Text.Pipeline;

/// <summary>An entry of <c>added_tokens</c>: a token matched in the raw text before normalization.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool LeftStrip, bool RightStrip);
