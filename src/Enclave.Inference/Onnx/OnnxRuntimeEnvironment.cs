using Microsoft.ML.OnnxRuntime;

namespace Enclave.Inference.Onnx;

/// <summary>
/// ONNX Runtime's process-wide environment, with its telemetry events turned off before anything else uses it.
/// Traced with <c>strace -f -e trace=connect,sendto</c>, <c>enclave up</c> otherwise sent DNS queries for
/// <c>mobile.events.data.microsoft.com</c> a few seconds after start (docs/runs-dark.md). Every path that creates a
/// <see cref="SessionOptions"/> or an <see cref="InferenceSession"/> calls <see cref="EnsureTelemetryOff"/> first.
/// </summary>
public static partial class OnnxRuntimeEnvironment
{
    /// <summary>Read by the native library's one-collector telemetry when the environment is created.</summary>
    private const string DisableVariable = "ORT_DISABLE_TELEMETRY";

    private static readonly Lazy<OrtEnv> Environment = new(
        static () =>
        {
            // DisableTelemetryEvents alone is too late: the strace record (docs/runs-dark.md) still showed the DNS
            // queries with it. The native library reads ORT_DISABLE_TELEMETRY from the process environment, which
            // Environment.SetEnvironmentVariable does not change on Unix, so it is set with setenv before the library
            // is first used.
            if (!OperatingSystem.IsWindows() && setenv(DisableVariable, "1", 1) != 0)
            {
                throw new InvalidOperationException($"could not set {DisableVariable} before loading ONNX Runtime (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}); refusing to start it with telemetry on");
            }

            System.Environment.SetEnvironmentVariable(DisableVariable, "1");
            var env = OrtEnv.Instance();
            env.DisableTelemetryEvents();
            return env;
        },
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates the environment (once per process) with telemetry off; returns it.</summary>
    public static OrtEnv EnsureTelemetryOff() => Environment.Value;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", SetLastError = true, StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
