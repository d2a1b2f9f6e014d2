namespace Enclave.Airlock.Tuf;

/// <summary>Persists a <see cref="TrustedState"/> once an update has fully verified.</summary>
public interface ITrustedStateStore
{
    /// <summary>Makes <paramref name="state"/> the persisted trusted state, atomically.</summary>
    void Commit(TrustedState state);
}
