using Microsoft.Extensions.Logging;

namespace Enclave.Airlock.Import;

/// <summary>
/// The import pipeline's log messages, event IDs 5001–5099 (docs/architecture.md, "Logging"): each import verified,
/// refused or activated, hooks that failed, recoveries, and ledger entries a failure path could not write. They
/// name import IDs, kinds, names, versions, digests and rejection codes, never a file's content.
/// </summary>
internal static partial class AirlockLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "import {ImportId} verified: {Kind} {Name} {Version}, manifest {ManifestSha256}, {Targets} target(s); it waits for {Approvals} approval(s)")]
    public static partial void Verified(ILogger logger, string importId, string kind, string name, string version, string manifestSha256, int targets, int approvals);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "import {ImportId} refused ({Code}); nothing was imported")]
    public static partial void Refused(ILogger logger, string importId, string code);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "import {ImportId} failed with an unexpected error; nothing was imported")]
    public static partial void Failed(ILogger logger, Exception exception, string importId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "import {ImportId} rejected by {Actor} at approval")]
    public static partial void RejectedByApprover(ILogger logger, string importId, string actor);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "import {ImportId} activated: {Kind} {Name} {Version}")]
    public static partial void Activated(ILogger logger, string importId, string kind, string name, string version);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "import {ImportId} could not be activated; the approval was not recorded and nothing was activated")]
    public static partial void ActivationFailed(ILogger logger, Exception exception, string importId);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "activation hook {Hook} failed for import {ImportId} ({Kind}); the activation stands")]
    public static partial void HookFailed(ILogger logger, Exception exception, string hook, string importId, string kind);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Warning, Message = "airlock recovery: {Quarantines} interrupted quarantine(s) removed, {Promotions} unfinished activation(s) undone, {TemporaryBlobs} temporary blob file(s) removed, {Lost} pending import(s) rejected because their quarantine vanished")]
    public static partial void Recovered(ILogger logger, int quarantines, int promotions, int temporaryBlobs, int lost);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Error, Message = "the ledger entry {EventType} for {Subject} could not be written on a failure path; the original failure is reported")]
    public static partial void FailureEntryNotWritten(ILogger logger, Exception exception, string eventType, string subject);
}
