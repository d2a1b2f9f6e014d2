using Enclave.Core.Hosting;
using Enclave.Server.Auth;

namespace Enclave.Server.Hosting.Startup;

/// <summary>
/// What the start-up stages did, for the operator: notices as they happen (a new ledger's verifier key, airlock
/// recovery, models not served) and, once started, the admin key created for a fresh enclave and the models served.
/// The CLI registers its own instance (<c>services.AddSingleton(new EnclaveStartupReport(...))</c>) to print notices on
/// standard error; other hosts keep the default, which only collects them.
/// </summary>
public sealed class EnclaveStartupReport : IStartupNotices
{
    private readonly Action<string>? _onNotice;
    private readonly Lock _lock = new();
    private readonly List<string> _notices = [];

    /// <param name="onNotice">Called with each notice when it is made (null: notices are only collected).</param>
    public EnclaveStartupReport(Action<string>? onNotice = null) => _onNotice = onNotice;

    /// <summary>Every notice so far, in order.</summary>
    public IReadOnlyList<string> Notices
    {
        get
        {
            lock (_lock)
            {
                return [.. _notices];
            }
        }
    }

    /// <summary>The identity bootstrap's outcome (null until it ran).</summary>
    public AdminKeyResult? AdminKey { get; internal set; }

    /// <summary>The models the server answers for once it listens (null until model loading ran).</summary>
    public IReadOnlyList<ModelRoute>? Models { get; internal set; }

    /// <summary>Records <paramref name="notice"/> and hands it to the host's callback.</summary>
    public void Notice(string notice)
    {
        ArgumentException.ThrowIfNullOrEmpty(notice);
        lock (_lock)
        {
            _notices.Add(notice);
        }

        _onNotice?.Invoke(notice);
    }
}
