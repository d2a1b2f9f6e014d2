using Enclave.Inference.Backends;

namespace Enclave.Inference.Upstream;

/// <summary>
/// A backend's key, as <see cref="UpstreamBackendOptions.ApiKeyReference"/> names it: from an environment variable,
/// read once; from a file, re-read whenever the file's write time or length changes, so that a rotated key (a
/// re-mounted secret) takes effect without a restart. The key is never logged and never leaves this class except
/// in the request header it authenticates.
/// </summary>
internal sealed class UpstreamCredential
{
    private readonly string? _path;
    private readonly string _backend;
    private readonly Lock _gate = new();
    private string? _key;
    private (DateTime WriteTime, long Length) _stamp;

    private UpstreamCredential(string? key, string? path, string backend)
    {
        _key = key;
        _path = path;
        _backend = backend;
        if (path is not null)
        {
            _stamp = Stamp(path);
        }
    }

    /// <summary>
    /// The credential for <paramref name="options"/> given the key already resolved from its reference (null: none).
    /// With a file reference, the file is watched from now on.
    /// </summary>
    public static UpstreamCredential? For(UpstreamBackendOptions options, string? resolvedKey)
    {
        if (string.IsNullOrEmpty(resolvedKey))
        {
            return null;
        }

        var path = UpstreamApiKey.TryParseReference(options.ApiKeyReference, out var parsed, out _) && parsed is { IsFile: true } file
            ? file.Target
            : null;
        return new UpstreamCredential(resolvedKey, path, options.Name);
    }

    /// <summary>
    /// The key now. A key file that changed and can no longer be read, or is empty, fails the request with 502 (the
    /// router fails over) rather than sending a stale key.
    /// </summary>
    /// <exception cref="BackendException">The key file changed and cannot be read.</exception>
    public string Current()
    {
        if (_path is null)
        {
            return _key!;
        }

        var stamp = Stamp(_path);
        lock (_gate)
        {
            if (stamp == _stamp && _key is not null)
            {
                return _key;
            }

            try
            {
                _key = UpstreamApiKey.Resolve("file:" + _path, _backend);
                _stamp = stamp;
                return _key!;
            }
            catch (UpstreamConfigurationException e)
            {
                _key = null;
                throw new BackendException(
                    502,
                    "upstream_authentication_error",
                    $"upstream backend '{_backend}': its key file changed and cannot be used ({e.Problems[0]})",
                    null,
                    e);
            }
        }
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }
}
