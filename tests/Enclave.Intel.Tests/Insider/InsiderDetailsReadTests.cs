using Enclave.Intel.Insider;

namespace Enclave.Intel.Tests.Insider;

/// <summary>
/// The live detections give the insider engine only the details it reads (<see cref="InsiderEngine.DetailsRead"/>):
/// on generated traffic with every injected scenario, an engine given the details cut to that list raises exactly the
/// signals of one given every detail. A detail the engine starts reading without the list naming it fails here.
/// </summary>
public sealed class InsiderDetailsReadTests
{
    [Fact]
    public void DetailsCutToDetailsRead_RaiseTheSameSignals()
    {
        var full = new InsiderEngine();
        var cut = new InsiderEngine();
        var fullSignals = new List<string>();
        var cutSignals = new List<string>();
        var dropped = 0;
        foreach (var e in new ScenarioGenerator(new ScenarioOptions { Seed = 2, Principals = 300, Days = 35 }).Generate())
        {
            fullSignals.AddRange(full.Observe(e.Event, e.LedgerIndex).Select(Fingerprint));
            var details = e.Event.Details.Where(d => InsiderEngine.DetailsRead.Contains(d.Key)).ToDictionary(d => d.Key, d => d.Value, StringComparer.Ordinal);
            dropped += e.Event.Details.Count - details.Count;
            cutSignals.AddRange(cut.Observe(e.Event with { Details = details }, e.LedgerIndex).Select(Fingerprint));
        }

        Assert.True(fullSignals.Count > 10, $"only {fullSignals.Count} signals");
        Assert.True(dropped > 1000, $"only {dropped} details left out");
        Assert.Equal(fullSignals, cutSignals);
    }

    private static string Fingerprint(InsiderSignal s) =>
        $"{s.LedgerIndex}|{s.Principal}|{s.Role}|{s.Clearance}|{s.Time:O}|{s.Score}|{s.Counterpart}|" +
        string.Join(';', s.Features.Select(f => $"{f.Feature}={f.Value}/{f.PrincipalBaseline}/{f.PeerBaseline}/{f.Score}/{string.Join(',', f.Evidence)}"));
}
