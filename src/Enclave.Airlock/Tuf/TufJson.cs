using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tuf;

/// <summary>
/// TUF JSON as the airlock reads it: <see cref="TufJsonFormat"/> (strict, bounded parsing and the canonical form, in
/// <c>Enclave.Signing</c> beside the keys whose IDs it computes), its refusals as <see cref="AirlockRejectedException"/>.
/// </summary>
internal static class TufJson
{
    /// <summary>Parses a whole document. <paramref name="memberSpan"/> receives the byte range of the named top-level member's value.</summary>
    public static object? Parse(ReadOnlySpan<byte> utf8, int maxDepth, string? member, out Range memberSpan)
    {
        try
        {
            return TufJsonFormat.Parse(utf8, maxDepth, member, out memberSpan);
        }
        catch (SigningException e)
        {
            throw Rejected(e);
        }
    }

    /// <summary>Parses a whole document.</summary>
    public static object? Parse(ReadOnlySpan<byte> utf8, int maxDepth) => Parse(utf8, maxDepth, null, out _);

    /// <summary>The canonical encoding of <paramref name="value"/>.</summary>
    public static byte[] Canonicalize(object? value)
    {
        try
        {
            return TufJsonFormat.Canonicalize(value);
        }
        catch (SigningException e)
        {
            throw Rejected(e);
        }
    }

    /// <summary>A refusal of <c>Enclave.Signing</c>'s TUF JSON or key parsing as the airlock's rejection, with the same message.</summary>
    internal static AirlockRejectedException Rejected(SigningException e) =>
        new(e.Reason == SigningFailure.NonCanonical ? AirlockRejection.NonCanonical : AirlockRejection.Malformed, e.Message, e);
}
