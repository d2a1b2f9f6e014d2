using System.Net;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger;
using Enclave.OperatorConsole.Backend;
using Enclave.OperatorConsole.Hosting;
using Enclave.Policy.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Enclave.Server.Auth;

/// <summary>
/// The relying party of console single sign-on (<c>Console:Oidc</c>, authorization code + PKCE): reads the provider's
/// discovery document and JWKS from the configured issuer only (every endpoint must be on the issuer's origin; no
/// redirects followed, no proxy, bounded sizes and time), exchanges the code with the PKCE verifier, and validates the
/// ID token with the API's OIDC validation (<see cref="OidcTokens.Parameters"/>) plus the sign-in's nonce, then maps it
/// with <see cref="OidcTokens.MapClaims"/>. Every refusal is an <c>auth.failed</c> entry with scheme
/// <see cref="Scheme"/>; its reason names what failed.
/// </summary>
internal sealed partial class ConsoleOidcClient : IDisposable
{
    /// <summary>The <c>scheme</c> detail of this sign-in's <c>auth.failed</c> entries.</summary>
    public const string Scheme = "console-oidc";

    /// <summary>Largest discovery document, JWKS or token response read.</summary>
    public const int MaxDocumentBytes = 256 * 1024;

    private const string CallbackPath = "/console/signin/oidc/callback";
    private static readonly TimeSpan MetadataLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan MinimumRefetchInterval = TimeSpan.FromSeconds(30);

    private readonly ConsoleOidcOptions _options;
    private readonly OidcOptions _validation;
    private readonly ApiKeyStore _store;
    private readonly ILedger _ledger;
    private readonly TimeProvider _clock;
    private readonly ILogger _log;
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ProviderMetadata? _metadata;

    public ConsoleOidcClient(IOptions<ConsoleOptions> options, ApiKeyStore store, ILedger ledger, TimeProvider clock, ILogger<ConsoleOidcClient> log)
    {
        _options = options.Value.Oidc;
        _validation = new OidcOptions
        {
            Issuer = _options.Issuer,
            Audience = _options.ClientId,
            Algorithms = _options.Algorithms,
            ClockSkewSeconds = _options.ClockSkewSeconds,
            RoleClaim = _options.RoleClaim,
            ClearanceClaim = _options.ClearanceClaim,
            UserClaim = _options.UserClaim,
        };
        _store = store;
        _ledger = ledger;
        _clock = clock;
        _log = log;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, UseCookies = false, ConnectTimeout = TimeSpan.FromSeconds(5) })
        {
            Timeout = TimeSpan.FromSeconds(10),
            MaxResponseContentBufferSize = MaxDocumentBytes,
        };
    }

    public async Task<(Uri? AuthorizationEndpoint, string? Problem)> AuthorizationEndpointAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return (null, "single sign-on to the console is not configured (Console:Oidc)");
        }

        try
        {
            return ((await MetadataAsync(refresh: false, cancellationToken).ConfigureAwait(false)).AuthorizationEndpoint, null);
        }
        catch (AuthenticationRejectedException refusal)
        {
            return (null, refusal.Message);
        }
    }

    public async Task<(ClaimsPrincipal? Principal, string? Refusal)> CompleteAsync(ConsoleOidcCallback callback, ConsoleOidcPending? pending, string? remoteAddress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callback);
        string? idToken = null;
        try
        {
            if (!_options.Enabled)
            {
                throw new AuthenticationRejectedException("not_configured", "single sign-on to the console is not configured");
            }

            if (pending is null)
            {
                throw new AuthenticationRejectedException("no_sign_in", "no sign-in was started in this browser, or it took too long; start again");
            }

            if (callback.State is null || !FixedTimeEquals(callback.State, pending.State))
            {
                throw new AuthenticationRejectedException("state_mismatch", "the answer from the identity provider does not belong to the sign-in started in this browser (state)");
            }

            if (callback.Error is { } error)
            {
                throw new AuthenticationRejectedException("provider_refused", $"the identity provider refused the sign-in ({Shorten(error)})");
            }

            if (string.IsNullOrEmpty(callback.Code) || callback.Code.Length > 4096)
            {
                throw new AuthenticationRejectedException("no_code", "the identity provider sent no authorization code");
            }

            var metadata = await MetadataAsync(refresh: false, cancellationToken).ConfigureAwait(false);
            idToken = await ExchangeAsync(metadata, callback.Code, pending.CodeVerifier, cancellationToken).ConfigureAwait(false);
            var token = await ValidateAsync(metadata, idToken, cancellationToken).ConfigureAwait(false);
            if (!token.TryGetPayloadValue<string>("nonce", out var nonce) || nonce is null || !FixedTimeEquals(nonce, pending.Nonce))
            {
                throw new AuthenticationRejectedException("nonce_mismatch", "the ID token was not issued for this sign-in (nonce)");
            }

            var identity = OidcTokens.MapClaims(token, _validation, _store);
            return (new ClaimsPrincipal(identity), null);
        }
        catch (Exception ex) when (ex is AuthenticationRejectedException or SecurityTokenException or ArgumentException)
        {
            var (reason, message) = AuthResponses.Describe(ex);
            await RecordAsync(reason, remoteAddress, idToken, ex).ConfigureAwait(false);
            LogRefused(_log, reason);
            return (null, message);
        }
    }

    private async Task<string> ExchangeAsync(ProviderMetadata metadata, string code, string verifier, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, metadata.TokenEndpoint)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = _options.RedirectUri!,
                ["client_id"] = _options.ClientId!,
                ["code_verifier"] = verifier,
            }),
        };
        var (status, body) = await SendAsync(request, "token endpoint", cancellationToken).ConfigureAwait(false);
        var json = ParseObject(body, "token response");
        if (status != HttpStatusCode.OK)
        {
            var error = json?["error"] is JsonValue e && e.TryGetValue<string>(out var text) ? text : $"HTTP {(int)status}";
            throw new AuthenticationRejectedException("code_refused", $"the identity provider refused to exchange the code ({Shorten(error)}); start the sign-in again");
        }

        return json?["id_token"] is JsonValue v && v.TryGetValue<string>(out var idToken) && idToken.Length is > 0 and <= MaxDocumentBytes
            ? idToken
            : throw new AuthenticationRejectedException("no_id_token", "the identity provider's token response holds no ID token (is 'openid' in the scope?)");
    }

    private async Task<JsonWebToken> ValidateAsync(ProviderMetadata metadata, string idToken, CancellationToken cancellationToken)
    {
        if (OidcTokens.HeaderAlgorithm(idToken) is { } algorithm && !_validation.EffectiveAlgorithms.Contains(algorithm, StringComparer.Ordinal))
        {
            throw new AuthenticationRejectedException("algorithm_not_allowed", $"the ID token's signature algorithm is not allowed (accepted: {string.Join(", ", _validation.EffectiveAlgorithms)})");
        }

        var handler = new JsonWebTokenHandler { MapInboundClaims = false };
        var result = await handler.ValidateTokenAsync(idToken, Parameters(metadata)).ConfigureAwait(false);
        if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException && metadata.Fetched + MinimumRefetchInterval <= _clock.GetUtcNow())
        {
            // The provider may have rotated its keys: read its JWKS again (at most every 30 seconds), then once more.
            metadata = await MetadataAsync(refresh: true, cancellationToken).ConfigureAwait(false);
            result = await handler.ValidateTokenAsync(idToken, Parameters(metadata)).ConfigureAwait(false);
        }

        if (!result.IsValid)
        {
            throw result.Exception ?? new SecurityTokenException("the ID token is not valid");
        }

        return result.SecurityToken as JsonWebToken ?? throw new AuthenticationRejectedException("malformed_token", "the ID token is not a JWT");
    }

    private TokenValidationParameters Parameters(ProviderMetadata metadata)
    {
        var parameters = OidcTokens.Parameters(_validation, metadata.Keys);
        parameters.LifetimeValidator = (notBefore, expires, _, p) =>
        {
            var now = _clock.GetUtcNow().UtcDateTime;
            if (expires is null)
            {
                throw new SecurityTokenNoExpirationException("the ID token has no expiry");
            }

            if (notBefore is { } nbf && nbf > now + p.ClockSkew)
            {
                throw new SecurityTokenNotYetValidException("the ID token is not valid yet") { NotBefore = nbf };
            }

            return expires.Value + p.ClockSkew >= now
                ? true
                : throw new SecurityTokenExpiredException("the ID token has expired") { Expires = expires.Value };
        };
        return parameters;
    }

    private async Task<ProviderMetadata> MetadataAsync(bool refresh, CancellationToken cancellationToken)
    {
        var current = _metadata;
        if (!refresh && current is not null && current.Fetched + MetadataLifetime > _clock.GetUtcNow())
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_metadata is { } fetched && fetched != current)
            {
                return fetched; // another request read it meanwhile
            }

            var issuer = new Uri(_options.Issuer!);
            var discovery = new Uri(_options.Issuer!.TrimEnd('/') + "/.well-known/openid-configuration");
            using var discoveryRequest = new HttpRequestMessage(HttpMethod.Get, discovery);
            var (status, body) = await SendAsync(discoveryRequest, "discovery document", cancellationToken).ConfigureAwait(false);
            if (status != HttpStatusCode.OK)
            {
                throw new AuthenticationRejectedException("provider_unavailable", $"the identity provider's discovery document {discovery} answered HTTP {(int)status}");
            }

            var document = ParseObject(body, "discovery document") ?? throw new AuthenticationRejectedException("bad_discovery", "the identity provider's discovery document is not a JSON object");
            var problems = new List<string>();
            if (Text(document, "issuer") != _options.Issuer)
            {
                problems.Add($"its issuer '{Shorten(Text(document, "issuer") ?? "(none)")}' is not the configured '{_options.Issuer}'");
            }

            var authorization = Endpoint(document, "authorization_endpoint", issuer, problems);
            var token = Endpoint(document, "token_endpoint", issuer, problems);
            var jwksUri = Endpoint(document, "jwks_uri", issuer, problems);
            if (document["code_challenge_methods_supported"] is JsonArray methods && !methods.Any(m => m is JsonValue v && v.TryGetValue<string>(out var s) && s == "S256"))
            {
                problems.Add("it does not support PKCE with S256 (code_challenge_methods_supported)");
            }

            if (problems.Count > 0)
            {
                throw new AuthenticationRejectedException("bad_discovery", "the identity provider's discovery document is not usable: " + string.Join("; ", problems));
            }

            using var jwksRequest = new HttpRequestMessage(HttpMethod.Get, jwksUri);
            var (jwksStatus, jwks) = await SendAsync(jwksRequest, "JWKS", cancellationToken).ConfigureAwait(false);
            if (jwksStatus != HttpStatusCode.OK)
            {
                throw new AuthenticationRejectedException("provider_unavailable", $"the identity provider's JWKS {jwksUri} answered HTTP {(int)jwksStatus}");
            }

            IReadOnlyList<SecurityKey> keys;
            try
            {
                keys = JwksFile.Parse(jwks, jwksUri!.ToString());
            }
            catch (InvalidDataException ex)
            {
                throw new AuthenticationRejectedException("bad_jwks", ex.Message);
            }

            _metadata = new ProviderMetadata(authorization!, token!, keys, _clock.GetUtcNow());
            return _metadata;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static Uri? Endpoint(JsonObject document, string name, Uri issuer, List<string> problems)
    {
        var text = Text(document, name);
        if (text is null || !Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            problems.Add($"'{name}' is missing or not an absolute URL");
            return null;
        }

        // Fetched from the configured issuer only: same scheme, host and port.
        if (uri.Scheme != issuer.Scheme || !string.Equals(uri.Host, issuer.Host, StringComparison.OrdinalIgnoreCase) || uri.Port != issuer.Port)
        {
            problems.Add($"'{name}' ({Shorten(text)}) is not on the issuer's origin {issuer.GetLeftPart(UriPartial.Authority)}");
            return null;
        }

        return uri;
    }

    private async Task<(HttpStatusCode Status, byte[] Body)> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > MaxDocumentBytes)
            {
                throw new AuthenticationRejectedException("provider_unavailable", $"the identity provider's {what} is larger than {MaxDocumentBytes} bytes");
            }

            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxDocumentBytes)
                {
                    throw new AuthenticationRejectedException("provider_unavailable", $"the identity provider's {what} is larger than {MaxDocumentBytes} bytes");
                }

                buffer.Write(chunk, 0, read);
            }

            return (response.StatusCode, buffer.ToArray());
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(_log, what, request.RequestUri?.GetLeftPart(UriPartial.Path) ?? "?", ex.Message);
            throw new AuthenticationRejectedException("provider_unavailable", $"the identity provider's {what} could not be read ({ex.Message}); is it running at {_options.Issuer}?");
        }
    }

    private static JsonObject? ParseObject(byte[] body, string what)
    {
        try
        {
            return StrictJson.Parse(body, maxDepth: 16) as JsonObject;
        }
        catch (JsonException ex)
        {
            throw new AuthenticationRejectedException("bad_response", $"the identity provider's {what} is not valid JSON: {ex.Message}");
        }
    }

    private static string? Text(JsonObject document, string name) =>
        document[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private async Task RecordAsync(string reason, string? remoteAddress, string? idToken, Exception failure)
    {
        string? kid = null, iss = null;
        if (idToken is not null && ReadUnverified(idToken) is { } unverified)
        {
            if (unverified.TryGetHeaderValue<string>("kid", out var headerKid) && headerKid is not null)
            {
                kid = Shorten(headerKid);
            }

            if (unverified.TryGetPayloadValue<string>("iss", out var payloadIss) && payloadIss is not null)
            {
                iss = Shorten(payloadIss);
            }
        }

        var details = new AuthFailedDetails
        {
            Scheme = Scheme,
            Reason = reason,
            Method = "GET",
            Exception = reason == "invalid_token" ? failure.GetType().Name : null,
            Alg = idToken is not null && OidcTokens.HeaderAlgorithm(idToken) is { Length: > 0 } alg ? Shorten(alg) : null,
            Kid = kid,
            Iss = iss,
            RemoteAddress = remoteAddress,
        };

        try
        {
            await _ledger.AppendAsync(AuditEvent.Create(_clock.GetUtcNow(), "anonymous", CallbackPath, details), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LedgerWriteException or ObjectDisposedException or EnclaveFormatException)
        {
            LogNotRecorded(_log, reason, ex.Message);
        }
    }

    private static JsonWebToken? ReadUnverified(string token)
    {
        try
        {
            return new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static string Shorten(string text)
    {
        var clean = new string([.. text.Take(128).Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length <= 128 ? clean : clean + "…";
    }

    public void Dispose()
    {
        _http.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(EventId = 10301, Level = LogLevel.Warning, Message = "console single sign-on refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 10302, Level = LogLevel.Warning, Message = "the identity provider's {What} at {Address} could not be read: {Error}")]
    private static partial void LogUnreachable(ILogger logger, string what, string address, string error);

    [LoggerMessage(EventId = 10303, Level = LogLevel.Error, Message = "a refused console sign-on ({Reason}) could not be recorded in the ledger: {Error}")]
    private static partial void LogNotRecorded(ILogger logger, string reason, string error);

    private sealed record ProviderMetadata(Uri AuthorizationEndpoint, Uri TokenEndpoint, IReadOnlyList<SecurityKey> Keys, DateTimeOffset Fetched);
}
