using Microsoft.AspNetCore.Http;

namespace Enclave.Server.Admin;

/// <summary>
/// Reads an <c>/admin/v1</c> request body into memory within a size limit: refused unread when the declared
/// <c>Content-Length</c> is over it, and as soon as the bytes read so far pass it (a chunked body declares none).
/// Each endpoint then parses the bytes strictly (<see cref="Core.StrictJson"/>) and answers with its own problem
/// details: 413 (or 400) for too large, 400 for malformed.
/// </summary>
internal static class AdminRequestBody
{
    /// <summary>The body's bytes, or <c>TooLarge</c> (and no bytes) when it is longer than <paramref name="limit"/>.</summary>
    public static async Task<(byte[] Body, bool TooLarge)> ReadAsync(HttpContext http, long limit)
    {
        if (http.Request.ContentLength > limit)
        {
            return ([], true);
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return ([], true);
            }

            buffer.Write(chunk, 0, read);
        }

        return (buffer.ToArray(), false);
    }
}
