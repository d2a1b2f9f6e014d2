using System.Data.Common;
using Enclave.Airlock.Tuf;
using Enclave.Core;
using Enclave.Core.Audit;

namespace Enclave.Airlock.Import;

// Stage 0, trust: pinning the TUF root the airlock verifies bundles against (see AirlockImporter.cs for the
// pipeline).
public sealed partial class AirlockImporter
{
    /// <summary>
    /// Pins <paramref name="rootJson"/> as the trusted root (<c>enclave airlock trust ROOT.json</c>). Pinning the root
    /// already pinned changes nothing. A different root is refused unless <paramref name="force"/> is set; forcing
    /// resets the trusted versions of every role to the new root alone. Recorded as <c>import.trust-pinned</c>.
    /// </summary>
    public async Task<TrustPinResult> PinTrustAsync(byte[] rootJson, string actor, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rootJson);
        ValidateActor(actor);
        TrustedState state;
        try
        {
            state = TrustedState.FromRoot(rootJson, _options.Tuf);
        }
        catch (AirlockRejectedException e)
        {
            throw new ImportWorkflowException(ImportWorkflowError.InvalidRoot, $"not a valid TUF root: {e.Detail}; nothing was pinned", e);
        }

        var digest = Sha256Digest.Compute(rootJson);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = TrustStore.CurrentPin();

            if (current is not null && current.RootSha256 == digest)
            {
                return new TrustPinResult { Pin = current, Changed = false };
            }

            if (current is not null && !force)
            {
                throw new ImportWorkflowException(
                    ImportWorkflowError.TrustConflict,
                    $"a different root is pinned (sha256 {current.RootSha256.ToHex()}, version {current.RootVersion}, pinned by {current.Actor} at {current.Pinned:u}); " +
                    "replacing it resets the trusted versions of every role and must be forced explicitly (--force); nothing was changed");
            }

            var now = _clock.GetUtcNow();
            var details = new ImportTrustPinnedDetails
            {
                RootSha256 = digest.ToHex(),
                RootVersion = state.Root.Version,
                Forced = current is not null,
                ReplacedSha256 = current?.RootSha256.ToHex(),
            };
            await AppendAsync(actor, "airlock:trust", details, cancellationToken).ConfigureAwait(false);
            try
            {
                using var transaction = _store.Begin();
                TrustStore.Commit(state, transaction);
                SqliteTrustedStateStore.RecordPin(transaction, digest, state.Root.Version, actor, current is not null, now);
                transaction.Commit();
            }
            catch (Exception e) when (e is DbException or IOException)
            {
                await TryAppendAsync(actor, "airlock:trust", new ImportTrustPinFailedDetails { RootSha256 = digest.ToHex(), Error = Short(e.Message) }).ConfigureAwait(false);
                throw;
            }

            return new TrustPinResult
            {
                Pin = new TrustPin { RootSha256 = digest, RootVersion = state.Root.Version, Actor = actor, Forced = current is not null, Pinned = now },
                Changed = true,
                Replaced = current?.RootSha256,
            };
        }
        finally
        {
            _gate.Release();
        }
    }
}
