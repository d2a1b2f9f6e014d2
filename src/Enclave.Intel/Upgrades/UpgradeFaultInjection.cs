namespace Enclave.Intel.Upgrades;

/// <summary>Test hook: a host that registers one makes each upgrade step call <see cref="Fault"/> at its named points (a disk error injected).</summary>
public sealed record UpgradeFaultInjection(Action<string> Fault);
