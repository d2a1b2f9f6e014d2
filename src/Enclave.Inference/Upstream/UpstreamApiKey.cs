using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Enclave.Inference.Upstream;

/// <summary>
/// Resolves an <see cref="UpstreamBackendOptions.ApiKeyReference"/> to the key: configuration names where the key is
/// (an environment variable or a file), never the key. Errors name the variable or the file, never the key.
/// </summary>
public static class UpstreamApiKey
{
    /// <summary>Largest key file read; a key is a line of text.</summary>
    public const int MaxKeyFileBytes = 16 * 1024;

    private const int MaxVariableNameLength = 128;

    /// <summary>
    /// The key <paramref name="reference"/> points at, or null when the reference is empty (no authentication).
    /// </summary>
    /// <param name="reference"><c>env:NAME</c>, a bare upper-case <c>NAME</c>, <c>file:PATH</c> or an absolute path.</param>
    /// <param name="backendName">Named in errors.</param>
    /// <param name="getEnvironmentVariable">Reads a variable; default <see cref="Environment.GetEnvironmentVariable(string)"/>.</param>
    /// <exception cref="UpstreamConfigurationException">The reference is malformed, or the variable or file is missing or empty.</exception>
    public static string? Resolve(string? reference, string backendName, Func<string, string?>? getEnvironmentVariable = null)
    {
        if (!TryParseReference(reference, out var parsed, out var problem))
        {
            throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey, [$"upstream backend '{backendName}': ApiKeyReference {problem}"]);
        }

        if (parsed is null)
        {
            return null;
        }

        var (isFile, target) = parsed.Value;
        string? key;
        if (isFile)
        {
            key = ReadKeyFile(target, backendName);
        }
        else
        {
            key = (getEnvironmentVariable ?? Environment.GetEnvironmentVariable)(target)?.Trim();
            if (string.IsNullOrEmpty(key))
            {
                throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey,
                    [$"upstream backend '{backendName}': the environment variable {target} named by ApiKeyReference is not set or empty; set it to the backend's API key"]);
            }
        }

        if (!key.All(c => c is > ' ' and < '\x7f'))
        {
            throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey,
                [$"upstream backend '{backendName}': the API key from {Describe(isFile, target)} has characters other than printable ASCII (a key is one token)"]);
        }

        return key;
    }

    /// <summary>Parses a reference: null result for an empty reference; a problem for a malformed one (not echoing it).</summary>
    internal static bool TryParseReference(
        string? reference,
        out (bool IsFile, string Target)? parsed,
        [NotNullWhen(false)] out string? problem)
    {
        parsed = null;
        problem = null;
        if (string.IsNullOrWhiteSpace(reference))
        {
            return true;
        }

        if (reference.StartsWith("env:", StringComparison.Ordinal))
        {
            var name = reference["env:".Length..];
            if (!IsVariableName(name, upperCaseOnly: false))
            {
                problem = "has 'env:' followed by something that is not an environment variable name (letters, digits, '_')";
                return false;
            }

            parsed = (false, name);
            return true;
        }

        if (reference.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = reference["file:".Length..];
            if (path.Length == 0 || path.Any(char.IsControl))
            {
                problem = "has 'file:' without a usable path";
                return false;
            }

            parsed = (true, path);
            return true;
        }

        if (Path.IsPathFullyQualified(reference) && !reference.Any(char.IsControl))
        {
            parsed = (true, reference);
            return true;
        }

        if (IsVariableName(reference, upperCaseOnly: true))
        {
            parsed = (false, reference);
            return true;
        }

        // Never echo the reference here: a malformed one is most often the key itself pasted into configuration.
        problem = "is neither an environment variable name (A-Z, 0-9, '_', or env:NAME) nor a file path (absolute, or file:PATH); "
            + "it must say where the key is, never hold the key: put the key in an environment variable or a file and name that";
        return false;
    }

    private static bool IsVariableName(string name, bool upperCaseOnly) =>
        name.Length is > 0 and <= MaxVariableNameLength
        && !char.IsAsciiDigit(name[0])
        && name.All(c => c == '_' || char.IsAsciiDigit(c) || (upperCaseOnly ? char.IsAsciiLetterUpper(c) : char.IsAsciiLetter(c)));

    private static string ReadKeyFile(string path, string backendName)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxKeyFileBytes)
            {
                throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey,
                    [$"upstream backend '{backendName}': the key file {path} named by ApiKeyReference is larger than {MaxKeyFileBytes} bytes; it must hold only the key"]);
            }

            var buffer = new byte[(int)stream.Length];
            stream.ReadExactly(buffer);
            var key = new UTF8Encoding(false, true).GetString(buffer).Trim();
            if (key.Length == 0)
            {
                throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey,
                    [$"upstream backend '{backendName}': the key file {path} named by ApiKeyReference is empty; write the backend's API key into it"]);
            }

            return key;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DecoderFallbackException)
        {
            throw new UpstreamConfigurationException(UpstreamConfigurationError.ApiKey,
                $"upstream backend '{backendName}': the key file {path} named by ApiKeyReference cannot be read ({e.GetType().Name}); check that it exists and that the server may read it",
                e);
        }
    }

    private static string Describe(bool isFile, string target) => isFile ? $"the file {target}" : $"the environment variable {target}";
}
