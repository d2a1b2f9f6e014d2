using System.Data.Common;
using Enclave.Core.Artifacts;
using Enclave.Core.Audit;

namespace Enclave.Airlock.Import;

// Stage 3, approve: activation hooks, approvals by distinct people, rejection of a pending import.
public sealed partial class AirlockImporter
{
    /// <summary>
    /// Adds work to run after each activation of the hook's kind (e.g. vulnerability data loaded when an <c>intel</c>
    /// bundle is activated). Hooks run in the order added, after the activation is durable; a hook that fails is recorded
    /// as <c>import.hook-failed</c> and the activation stands.
    /// </summary>
    public void AddActivationHook(IArtifactActivationHook hook)
    {
        ArgumentNullException.ThrowIfNull(hook);
        lock (_hooks)
        {
            _hooks.Add(hook);
        }
    }

    private async Task RunActivationHooksAsync(ImportRecord record, string actor, CancellationToken cancellationToken)
    {
        IArtifactActivationHook[] hooks;
        lock (_hooks)
        {
            hooks = [.. _hooks.Where(h => string.Equals(h.Kind, record.Kind, StringComparison.Ordinal))];
        }

        if (hooks.Length == 0 || record.Folder is null)
        {
            return;
        }

        var activation = new ArtifactActivation
        {
            Kind = record.Kind,
            Name = record.Name,
            Version = record.Version,
            Label = record.Label,
            ImportId = record.Id,
            Folder = record.Folder,
            Files = [.. record.Targets.Select(t => new ArtifactFile(t.RelativePath, t.Sha256, t.Length))],
            ActivatedBy = actor,
        };
        foreach (var hook in hooks)
        {
            try
            {
                await hook.OnActivatedAsync(activation, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                AirlockLog.HookFailed(_logger, e, hook.GetType().Name, record.Id, record.Kind);
                await TryAppendAsync(actor, "import:" + record.Id, new ImportHookFailedDetails
                {
                    Hook = hook.GetType().Name,
                    Kind = record.Kind,
                    Error = Short($"{e.GetType().Name}: {e.Message}"),
                }).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Records <paramref name="actor"/>'s approval of a pending import. The importer cannot approve; approving twice
    /// counts once. The approval that reaches the kind's threshold promotes the artifact into the blob store and the
    /// registry and activates it, all or nothing: if promotion fails, that approval is not recorded either.
    /// </summary>
    public Task<ImportRecord> ApproveAsync(string id, string actor, CancellationToken cancellationToken = default) =>
        ApproveAsync(id, actor, via: null, cancellationToken);

    /// <summary>
    /// <see cref="ApproveAsync(string, string, CancellationToken)"/> from a named surface: <paramref name="via"/> (such as
    /// <c>console</c>) is recorded as the <c>via</c> detail of <c>import.approved</c> (and of <c>import.activated</c> or <c>import.approval-refused</c>); null records none (the admin API and CLI).
    /// </summary>
    public async Task<ImportRecord> ApproveAsync(string id, string actor, string? via, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ValidateActor(actor);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = Pending(id);
            var subject = "import:" + id;
            if (string.Equals(actor, record.Importer, StringComparison.Ordinal))
            {
                await AppendAsync(actor, subject, new ImportApprovalRefusedDetails { Reason = "self-approval", Via = via }, cancellationToken).ConfigureAwait(false);
                throw new ImportWorkflowException(ImportWorkflowError.SelfApproval, $"{actor} imported {id} and cannot approve it; another person must (two-person rule); nothing was changed");
            }

            if (record.Approvers.Contains(actor, StringComparer.Ordinal))
            {
                return record;
            }

            var approvals = record.Approvers.Count + 1;
            if (approvals >= record.RequiredApprovals)
            {
                await PromoteAsync(record, actor, via, cancellationToken).ConfigureAwait(false);
                var activated = Get(id)!;
                await RunActivationHooksAsync(activated, actor, cancellationToken).ConfigureAwait(false);
                return activated;
            }

            await AppendAsync(actor, subject, ApprovedDetails(record, approvals, via), cancellationToken).ConfigureAwait(false);
            try
            {
                _store.AddApproval(id, actor, _clock.GetUtcNow());
            }
            catch (Exception e) when (e is DbException or IOException)
            {
                await TryAppendAsync(actor, subject, new ImportApprovalFailedDetails { Error = Short(e.Message) }).ConfigureAwait(false);
                throw;
            }

            return Get(id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Rejects a pending import: its quarantine is removed and it can never be activated.</summary>
    public Task<ImportRecord> RejectAsync(string id, string actor, string reason, CancellationToken cancellationToken = default) =>
        RejectAsync(id, actor, reason, via: null, cancellationToken);

    /// <summary>
    /// <see cref="RejectAsync(string, string, string, CancellationToken)"/> from a named surface: <paramref name="via"/>
    /// (such as <c>console</c>) is recorded as the <c>via</c> detail of <c>import.rejected</c>.
    /// </summary>
    public async Task<ImportRecord> RejectAsync(string id, string actor, string reason, string? via, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ValidateActor(actor);
        if (string.IsNullOrWhiteSpace(reason) || reason.Length > MaxReasonLength || reason.Any(char.IsControl))
        {
            throw new ArgumentException($"a rejection reason is 1 to {MaxReasonLength} characters without control characters", nameof(reason));
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var record = Pending(id);
            await AppendAsync(
                actor,
                "import:" + id,
                new ImportRejectedDetails { Stage = "approval", Reason = "rejected-by-approver", Detail = reason, ManifestSha256 = record.ManifestSha256.ToHex(), Via = via },
                cancellationToken).ConfigureAwait(false);
            var quarantine = QuarantineOf(id);
            MarkRejected(id, actor, reason, _clock.GetUtcNow());
            AirlockLog.RejectedByApprover(_logger, id, actor);

            if (quarantine is not null)
            {
                DeleteDirectory(quarantine);
            }

            return Get(id)!;
        }
        finally
        {
            _gate.Release();
        }
    }

    private ImportRecord Pending(string id)
    {
        var record = Get(id) ?? throw new ImportWorkflowException(ImportWorkflowError.NotFound, $"no import {ArtifactNames.Printable(id)}");
        if (record.State != ImportState.Verified)
        {
            throw new ImportWorkflowException(ImportWorkflowError.NotPending, $"import {id} is {record.State.ToString().ToLowerInvariant()}, not pending approval; nothing was changed");
        }

        return record;
    }
}
