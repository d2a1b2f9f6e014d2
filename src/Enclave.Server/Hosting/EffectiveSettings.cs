using Enclave.OperatorConsole.Backend;
using Microsoft.Extensions.Configuration;

namespace Enclave.Server.Hosting;

/// <summary>
/// The configuration the server was started with (the JSON file overlaid by <c>ENCLAVE__</c> environment variables, as
/// <see cref="EnclaveConfiguration.Load"/> reads it), flattened to <c>Section:Key</c> rows for the console's Settings
/// page, with secrets redacted: a value is never shown when its key names a secret (a key, password, token, credential,
/// connection string, header) or when the value looks like one (an Enclave API key, a PEM block, a connection string
/// with a password, a bearer token, a URL with a user's password). Files the settings name (key files, certificates)
/// are never read: only their paths are shown.
/// </summary>
public sealed class EffectiveSettings(IConfiguration configuration)
{
    /// <summary>What a redacted value is shown as.</summary>
    public const string Redacted = "(redacted)";

    private static readonly string[] SecretNameParts =
        ["secret", "password", "passwd", "pwd", "token", "apikey", "credential", "connectionstring", "privatekey", "header", "authorization", "cookie", "passphrase"];

    private static readonly string[] SecretValueParts =
        ["-----begin", "password=", "pwd=", "bearer ", "basic ", "sharedaccesskey", "accountkey="];

    /// <summary>Every configured value, sorted by key, secrets redacted.</summary>
    public IReadOnlyList<ConsoleSetting> Read() =>
    [
        .. configuration.AsEnumerable()
            .Where(kv => kv.Value is not null)
            .OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
            .Select(kv => IsSecret(kv.Key, kv.Value!)
                ? new ConsoleSetting { Key = kv.Key, Value = Redacted, Redacted = true }
                : new ConsoleSetting { Key = kv.Key, Value = kv.Value! }),
    ];

    /// <summary>Whether the value at <paramref name="key"/> is (or looks like) a secret.</summary>
    public static bool IsSecret(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        foreach (var segment in key.Split(':'))
        {
            var name = segment.Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
            if (SecretNameParts.Any(name.Contains) || name.EndsWith("key", StringComparison.Ordinal) || name == "keys")
            {
                return true;
            }
        }

        var lower = value.ToLowerInvariant();
        if (SecretValueParts.Any(lower.Contains) || value.StartsWith("ek_", StringComparison.Ordinal))
        {
            return true;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal);
    }
}
