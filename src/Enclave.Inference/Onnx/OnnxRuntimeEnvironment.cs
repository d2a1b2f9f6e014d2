using Microsoft.ML.OnnxRuntime;

namespace Enclave.Inference.Onnx;

/// <summary>
/// ONNX Runtime's process-wide environment, with its telemetry events turned off before anything else uses it.
/// Traced with <c>strace -f -e trace=connect,sendto</c>, <c>enclave up</c> otherwise sent DNS queries for
/// <c>mobile.events.data.microsoft.com</c> a few seconds after start (docs/runs-dark.md). Every path that creates a
/// <see cref="SessionOptions"/> or an <see cref="InferenceSession"/> calls <see cref="EnsureTelemetryOff"/> first.
/// </summary>
public static class OnnxRuntimeEnvironment
{
    private static readonly Lazy<OrtEnv> Environment = new(
        static () =>
        {
            var env = OrtEnv.Instance();
            env.DisableTelemetryEvents();
            return env;
        },
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Creates the environment (once per process) with telemetry off; returns it.</summary>
    public static OrtEnv EnsureTelemetryOff() => Environment.Value;
}
