using System.Text.Json;

namespace Enclave.Cli.Tests;

/// <summary>
/// The runtime settings <c>enclave</c> starts with (<c>enclave.runtimeconfig.json</c> beside the binary, as the build
/// writes it for every deployment): idle thread-pool workers sleep without spinning first (issue 18; docs/benchmarks.md,
/// soak, session 13).
/// </summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void RuntimeConfig_TurnsOffThreadPoolSpinning()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "enclave.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllBytes(path));

        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(
            properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit),
            $"{path} does not set System.Threading.ThreadPool.UnfairSemaphoreSpinLimit");
        Assert.Equal(0, limit.ValueKind == JsonValueKind.String ? int.Parse(limit.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : limit.GetInt32());
    }
}
