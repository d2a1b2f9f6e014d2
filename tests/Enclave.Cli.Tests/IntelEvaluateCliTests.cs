using System.Text.Json;

namespace Enclave.Cli.Tests;

/// <summary><c>enclave intel evaluate</c>: insider detection on seeded generated traffic, small population.</summary>
public sealed class IntelEvaluateCliTests
{
    [Fact]
    public async Task IntelEvaluate_Json_PrintsRecallPrecisionAndAlertsPerScenario_TheSameForTheSameSeed()
    {
        var first = await CliRunner.RunAsync("intel", "evaluate", "--seed", "101", "--principals", "100", "--days", "21", "--json");
        Assert.Equal(0, first.ExitCode);
        using var document = JsonDocument.Parse(first.Out);
        var root = document.RootElement;
        Assert.Equal(101, root.GetProperty("seed").GetInt32());
        Assert.Equal(100, root.GetProperty("principals").GetInt32());
        Assert.Equal(5, root.GetProperty("budget").GetDouble());
        Assert.True(root.GetProperty("events").GetInt64() > 10_000);
        Assert.InRange(root.GetProperty("alertsPerDay").GetDouble(), 0, 0.5);
        Assert.InRange(root.GetProperty("recall").GetDouble(), 0, 1);
        Assert.InRange(root.GetProperty("precision").GetDouble(), 0, 1);
        var scenarios = root.GetProperty("scenarios").EnumerateArray().ToList();
        Assert.Equal(
            ["bulk-retention-reads", "bulk-ledger-exports", "probing-above-clearance", "after-hours-bulk-generation", "key-sprawl", "approval-collusion", "slow-and-low"],
            scenarios.Select(s => s.GetProperty("kind").GetString()));
        Assert.All(scenarios, s => Assert.InRange(s.GetProperty("detected").GetInt32(), 0, s.GetProperty("injected").GetInt32()));

        var second = await CliRunner.RunAsync("intel", "evaluate", "--seed", "101", "--principals", "100", "--days", "21", "--json");
        using var again = JsonDocument.Parse(second.Out);
        Assert.Equal(root.GetProperty("alerts").GetInt32(), again.RootElement.GetProperty("alerts").GetInt32());
        Assert.Equal(root.GetProperty("recall").GetDouble(), again.RootElement.GetProperty("recall").GetDouble());
    }

    [Fact]
    public async Task IntelEvaluate_TooFewPrincipals_IsInvalidInput_SayingTheRange()
    {
        var result = await CliRunner.RunAsync("intel", "evaluate", "--principals", "3", "--days", "21");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("principals 20..1,000,000 (got 3)", result.Error, StringComparison.Ordinal);
    }
}
