using System.Text.Json;
using Enclave.Airlock.Import;
using Enclave.Airlock.Repository;
using Enclave.Airlock.Tuf;
using Enclave.Cli.Admin;
using Enclave.Core;
using Enclave.Core.Storage;
using Enclave.Inference.Upstream;
using Enclave.Intel.Alerts;
using Enclave.Ledger;
using Enclave.Policy.Configuration;
using Enclave.Signing.Keys;
using Enclave.Signing.Notes;
using Enclave.State;

namespace Enclave.Cli.Tests;

public sealed class ExitCodeTableTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("enclave-exitcodes-").FullName;

    /// <summary>Every assembly whose exceptions the CLI can meet.</summary>
    private static readonly System.Reflection.Assembly[] Components =
    [
        typeof(IEnclaveError).Assembly,
        typeof(NoteVerificationException).Assembly,
        typeof(StateException).Assembly,
        typeof(LedgerReader).Assembly,
        typeof(AirlockRejectedException).Assembly,
        typeof(PolicyConfigurationException).Assembly,
        typeof(UpstreamConfigurationException).Assembly,
        typeof(AlertException).Assembly,
        typeof(Server.Hosting.EnclaveHost).Assembly,
    ];

    [Fact]
    public void EveryExceptionFamily_HasItsReasonsInTheTable()
    {
        var families = Components
            .SelectMany(a => a.GetTypes())
            .Where(t => typeof(Exception).IsAssignableFrom(t))
            .SelectMany(t => t.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnclaveError<>))
            .Select(i => i.GetGenericArguments()[0])
            .Distinct()
            .ToList();

        // The families of Signing, State, Ledger, Airlock, Policy, Inference and Intel at least.
        Assert.True(families.Count >= 15, $"found only {families.Count} families: {string.Join(", ", families.Select(f => f.Name))}");
        var missing = families.Where(f => !ExitCodeTable.Families.Contains(f)).Select(f => f.FullName).ToList();
        Assert.True(missing.Count == 0, "reason enums without an exit code in ExitCodeTable: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData(SigningFailure.KeyDecryptionFailed, ExitCode.Denied)]
    [InlineData(SigningFailure.KeyNotAuthorised, ExitCode.Denied)]
    [InlineData(TrustRepositoryError.BelowThreshold, ExitCode.Denied)]
    [InlineData(SigningFailure.KeyFileInvalid, ExitCode.VerificationFailed)]
    [InlineData(SigningFailure.InvalidArgument, ExitCode.InvalidInput)]
    [InlineData(SigningFailure.OutputExists, ExitCode.InvalidInput)]
    [InlineData(TrustRepositoryError.OutputExists, ExitCode.InvalidInput)]
    [InlineData(TrustRepositoryError.BundleInvalid, ExitCode.VerificationFailed)]
    [InlineData(TrustRepositoryError.SourceChanged, ExitCode.Failure)]
    [InlineData(TrustRepositoryError.InvalidAttestation, ExitCode.InvalidInput)]
    [InlineData(LedgerError.NotFound, ExitCode.NotFound)]
    [InlineData(LedgerError.InvalidArgument, ExitCode.InvalidInput)]
    [InlineData(LedgerFailure.RootMismatch, ExitCode.VerificationFailed)]
    [InlineData(StateFailure.NewerThanBinary, ExitCode.StorageFailed)]
    [InlineData(AirlockRejection.Malformed, ExitCode.VerificationFailed)]
    [InlineData(ImportWorkflowError.NotFound, ExitCode.NotFound)]
    [InlineData(ImportWorkflowError.SelfApproval, ExitCode.Denied)]
    [InlineData(ImportWorkflowError.NotPending, ExitCode.InvalidInput)]
    [InlineData(AlertError.NotFound, ExitCode.NotFound)]
    [InlineData(AlertError.InvalidTransition, ExitCode.InvalidInput)]
    [InlineData(NoteRejection.BadSignature, ExitCode.VerificationFailed)]
    [InlineData(SigningFailure.KeyMissing, ExitCode.NotFound)]
    [InlineData(PolicyConfigurationError.InvalidQuotas, ExitCode.InvalidInput)]
    [InlineData(UpstreamConfigurationError.ApiKey, ExitCode.InvalidInput)]
    public void Reason_MapsToItsExitCode(object reason, ExitCode expected) =>
        Assert.Equal(expected, ExitCodeTable.ForReason((Enum)reason));

    [Fact]
    public void Map_GivesTheFamilysReason_AndKeepsTheMessage()
    {
        var failure = ExitCodeTable.Map(new SigningException(SigningFailure.KeyDecryptionFailed, "cannot decrypt k.pem"));
        Assert.Equal(new CliFailure(ExitCode.Denied, "cannot decrypt k.pem", "KeyDecryptionFailed"), failure);

        var state = ExitCodeTable.Map(new StateException(StateFailure.MigrationFailed, "migration 7 failed"));
        Assert.Equal(new CliFailure(ExitCode.StorageFailed, "migration 7 failed", "MigrationFailed"), state);
    }

    [Fact]
    public void Map_KeepsTheMessagesOfTodaysFailures()
    {
        Assert.Equal(
            new CliFailure(ExitCode.VerificationFailed, "verification failed (RootMismatch): tiles disagree", "RootMismatch"),
            ExitCodeTable.Map(new LedgerVerificationException(LedgerFailure.RootMismatch, "tiles disagree")));
        Assert.Equal(new CliFailure(ExitCode.StorageFailed, "storage error: disk full", null), ExitCodeTable.Map(new IOException("disk full")));
        Assert.Equal(ExitCode.NotFound, ExitCodeTable.Map(new FileNotFoundException("no such file"))!.Code);
        Assert.Equal(ExitCode.NotFound, ExitCodeTable.Map(new DirectoryNotFoundException("no such directory"))!.Code);
        Assert.Equal(ExitCode.InvalidInput, ExitCodeTable.Map(new ArgumentException("bad --size"))!.Code);
        Assert.Equal(ExitCode.InvalidInput, ExitCodeTable.Map(new EnclaveFormatException("line 3: not JSON"))!.Code);
        Assert.Equal(ExitCode.Locked, ExitCodeTable.Map(new DataDirectoryLockedException("held"))!.Code);
        Assert.Equal(new CliFailure(ExitCode.Unavailable, "Server unreachable: down", null), ExitCodeTable.Map(new AdminApiException(0, "Server unreachable", "down")));
    }

    [Fact]
    public void Map_LeavesBugsToPropagate()
    {
        Assert.Null(ExitCodeTable.Map(new InvalidOperationException("a bug")));
        Assert.Null(ExitCodeTable.Map(new NullReferenceException()));
    }

    [Theory]
    [InlineData(0, ExitCode.Unavailable)]
    [InlineData(401, ExitCode.Denied)]
    [InlineData(403, ExitCode.Denied)]
    [InlineData(404, ExitCode.NotFound)]
    [InlineData(409, ExitCode.InvalidInput)]
    [InlineData(422, ExitCode.InvalidInput)]
    [InlineData(503, ExitCode.Unavailable)]
    [InlineData(500, ExitCode.Failure)]
    public void AdminApiStatus_MapsToItsExitCode(int status, ExitCode expected) =>
        Assert.Equal(expected, ExitCodeTable.ForStatus(status));

    [Fact]
    public async Task LedgerCommand_ReportsTheReason_InItsJsonError()
    {
        var missing = await CliRunner.RunAsync("ledger", "prove", "--data", Path.Combine(_root, "none"), "--index", "0", "--json");
        Assert.Equal((int)ExitCode.NotFound, missing.ExitCode);
        var error = JsonDocument.Parse(missing.Out).RootElement.GetProperty("error");
        Assert.Equal("NotFound", error.GetProperty("code").GetString());
        Assert.Equal("NotFound", error.GetProperty("reason").GetString());
        Assert.StartsWith("error: no ledger in", missing.Error, StringComparison.Ordinal);

        var data = Path.Combine(_root, "data");
        Assert.Equal(0, (await CliRunner.RunAsync("ledger", "init", "--data", data, "--origin", "exitcodes.example/log")).ExitCode);
        var outside = await CliRunner.RunAsync("ledger", "prove", "--data", data, "--index", "99", "--size", "1", "--json");
        Assert.Equal((int)ExitCode.InvalidInput, outside.ExitCode);
        Assert.Equal("InvalidArgument", JsonDocument.Parse(outside.Out).RootElement.GetProperty("error").GetProperty("reason").GetString());
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
