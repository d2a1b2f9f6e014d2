using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Enclave.Inference.Upstream.Aws;

/// <summary>AWS credentials: an access key ID, its secret, and a session token for temporary credentials.</summary>
internal sealed record AwsCredentials(string AccessKeyId, string SecretAccessKey, string? SessionToken)
{
    /// <summary>
    /// Parses <c>ACCESS_KEY_ID:SECRET_ACCESS_KEY</c> or <c>ACCESS_KEY_ID:SECRET_ACCESS_KEY:SESSION_TOKEN</c> (what a
    /// Bedrock backend's ApiKeyReference names); null when it is not that shape.
    /// </summary>
    public static AwsCredentials? Parse(string text)
    {
        var parts = text.Split(':');
        return parts.Length is 2 or 3 && parts.All(p => p.Length > 0)
            ? new AwsCredentials(parts[0], parts[1], parts.Length == 3 ? parts[2] : null)
            : null;
    }

    /// <summary>Never the secret.</summary>
    public override string ToString() => $"AwsCredentials({AccessKeyId})";
}

/// <summary>
/// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
/// the canonical request (method, URI path encoded once more, sorted query, lower-cased sorted headers, signed
/// header list, payload SHA-256), the string to sign, the derived key (date, region, service, <c>aws4_request</c>)
/// and the <c>Authorization</c> header. Implemented here rather than through AWSSDK.Core: the SDK's signer works on
/// its own request objects, and the algorithm is a page of HMACs checked against AWS's published example.
/// </summary>
internal static class SigV4Signer
{
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>
    /// Signs <paramref name="request"/> in place: sets <c>x-amz-date</c>, <c>x-amz-content-sha256</c>,
    /// <c>x-amz-security-token</c> (temporary credentials) and <c>Authorization</c>. The <c>host</c> and
    /// <c>content-type</c> headers are signed as they will be sent.
    /// </summary>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> payload, AwsCredentials credentials, string region, string service, DateTimeOffset now)
    {
        var amzDate = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(payload));
        request.Headers.TryAddWithoutValidation("x-amz-date", amzDate);
        request.Headers.TryAddWithoutValidation("x-amz-content-sha256", payloadHash);
        if (credentials.SessionToken is not null)
        {
            request.Headers.TryAddWithoutValidation("x-amz-security-token", credentials.SessionToken);
        }

        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = request.RequestUri!.IsDefaultPort ? request.RequestUri.Host : request.RequestUri.Authority,
            ["x-amz-date"] = amzDate,
            ["x-amz-content-sha256"] = payloadHash,
        };
        if (credentials.SessionToken is not null)
        {
            headers["x-amz-security-token"] = credentials.SessionToken;
        }

        if (request.Content?.Headers.ContentType is { } contentType)
        {
            headers["content-type"] = contentType.ToString();
        }

        request.Headers.TryAddWithoutValidation("Authorization", Authorization(request.Method.Method, request.RequestUri!, headers, payloadHash, credentials, region, service, amzDate));
    }

    /// <summary>The <c>Authorization</c> header value for a request with these (lower-case) headers.</summary>
    internal static string Authorization(
        string method, Uri uri, IReadOnlyDictionary<string, string> headers, string payloadHash, AwsCredentials credentials, string region, string service, string amzDate)
    {
        var sorted = headers.OrderBy(h => h.Key, StringComparer.Ordinal).ToList();
        var signedHeaders = string.Join(';', sorted.Select(h => h.Key));
        var canonicalRequest = CanonicalRequest(method, uri, sorted, signedHeaders, payloadHash);
        var date = amzDate[..8];
        var scope = $"{date}/{region}/{service}/aws4_request";
        var stringToSign = $"{Algorithm}\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(SigningKey(credentials.SecretAccessKey, date, region, service), Encoding.UTF8.GetBytes(stringToSign)));
        return $"{Algorithm} Credential={credentials.AccessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}";
    }

    internal static string CanonicalRequest(string method, Uri uri, IReadOnlyList<KeyValuePair<string, string>> sortedHeaders, string signedHeaders, string payloadHash)
    {
        var builder = new StringBuilder();
        builder.Append(method).Append('\n');
        builder.Append(CanonicalPath(uri.AbsolutePath)).Append('\n');
        builder.Append(CanonicalQuery(uri.Query)).Append('\n');
        foreach (var (name, value) in sortedHeaders)
        {
            builder.Append(name).Append(':').Append(string.Join(' ', value.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))).Append('\n');
        }

        builder.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return builder.ToString();
    }

    /// <summary>Each segment of the (already encoded) path encoded again: services other than S3 sign it double-encoded.</summary>
    internal static string CanonicalPath(string absolutePath) =>
        absolutePath.Length == 0 ? "/" : string.Join('/', absolutePath.Split('/').Select(Encode));

    private static string CanonicalQuery(string query)
    {
        if (query.Length <= 1)
        {
            return "";
        }

        return string.Join('&', query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair =>
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
                var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
                return (Name: Encode(name), Value: Encode(value));
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => $"{p.Name}={p.Value}"));
    }

    /// <summary>RFC 3986 encoding: everything but unreserved characters (A-Z a-z 0-9 - _ . ~) as upper-case %XX.</summary>
    internal static string Encode(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    private static byte[] SigningKey(string secret, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secret), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }
}
