using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Core;
using Enclave.Core.Storage;
using Enclave.Ledger;
using Enclave.Policy.Configuration;

namespace Enclave.Cli.Commands;

/// <summary>Runs a command body and turns the expected failures into a message and a named exit code.</summary>
internal static class CommandRunner
{
    // Relaxed escaping writes '+' and '/' of base64 hashes literally, as Go's tlog.Hash JSON decoder requires; the output
    // is for scripts and terminals, never embedded in HTML.
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task<int> RunAsync(CliContext context, bool json, Func<Task<ExitCode>> body)
    {
        ExitCode code;
        string? message;
        try
        {
            return (int)await body().ConfigureAwait(false);
        }
        catch (Admin.AdminApiException ex)
        {
            (code, message) = (ex.ExitCode, ex.Message);
        }
        catch (Enclave.Airlock.Bundles.BundleRejectedException ex)
        {
            // A bundle on local media that cannot even be sent (a part missing, too many parts).
            (code, message) = (ExitCode.InvalidInput, ex.Message);
        }
        catch (Enclave.Inference.Packaged.PackagedModelException ex)
        {
            // The demo embedding model's package is damaged or not the pinned one: nothing was imported.
            (code, message) = (ExitCode.VerificationFailed, ex.Message);
        }
        catch (LedgerVerificationException ex)
        {
            (code, message) = (ExitCode.VerificationFailed, $"verification failed ({ex.Failure}): {ex.Message}");
        }
        catch (LedgerNotFoundException ex)
        {
            (code, message) = (ExitCode.NotFound, ex.Message);
        }
        catch (DataDirectoryLockedException ex)
        {
            (code, message) = (ExitCode.Locked, ex.Message);
        }
        catch (Enclave.Intel.Vulnerabilities.VulnerabilityDataException ex)
        {
            (code, message) = (ExitCode.InvalidInput, ex.Message);
        }
        catch (Exception ex) when (ex is EnclaveFormatException or LedgerArgumentException or ArgumentException)
        {
            (code, message) = (ExitCode.InvalidInput, ex.Message);
        }
        catch (Enclave.Inference.Upstream.UpstreamConfigurationException ex)
        {
            (code, message) = (ExitCode.InvalidInput, ex.Message);
        }
        catch (PolicyConfigurationException ex)
        {
            (code, message) = (ExitCode.InvalidInput, ex.Message);
        }
        catch (FileNotFoundException ex)
        {
            (code, message) = (ExitCode.NotFound, ex.Message);
        }
        catch (DirectoryNotFoundException ex)
        {
            (code, message) = (ExitCode.NotFound, ex.Message);
        }
        catch (LedgerWriteException ex)
        {
            (code, message) = (ExitCode.StorageFailed, ex.Message);
        }
        catch (Enclave.State.StateException ex)
        {
            // A database newer than this binary, or a migration that failed (rolled back): the message says what to do.
            (code, message) = (ExitCode.StorageFailed, ex.Message);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or IOException or UnauthorizedAccessException)
        {
            (code, message) = (ExitCode.StorageFailed, $"storage error: {ex.Message}");
        }

        if (json)
        {
            var error = new JsonObject { ["error"] = new JsonObject { ["code"] = code.ToString(), ["exitCode"] = (int)code, ["message"] = message } };
            await context.Out.WriteLineAsync(error.ToJsonString(JsonOptions)).ConfigureAwait(false);
        }

        await context.Error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
        return (int)code;
    }

    public static Task WriteJsonAsync(CliContext context, JsonNode node) => context.Out.WriteLineAsync(node.ToJsonString(JsonOptions));
}
