using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>An in-memory metadata source keyed by file name (<c>timestamp.json</c>, <c>2.root.json</c>).</summary>
internal sealed class MemorySource : ITufMetadataSource
{
    public Dictionary<string, byte[]> Files { get; } = new(StringComparer.Ordinal);

    public List<string> Fetched { get; } = [];

    public byte[]? Fetch(string role, int? version, long maxLength)
    {
        var name = version is null ? $"{role}.json" : $"{version}.{role}.json";
        Fetched.Add(name);
        return Files.TryGetValue(name, out var bytes) ? bytes : null;
    }
}

/// <summary>A settable clock.</summary>
internal sealed class FakeClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Records every committed state.</summary>
internal sealed class RecordingStore : ITrustedStateStore
{
    public List<TrustedState> Commits { get; } = [];

    public void Commit(TrustedState state) => Commits.Add(state);
}
