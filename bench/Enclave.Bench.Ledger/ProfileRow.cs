namespace Enclave.Bench.Ledger;

/// <summary>One measured component of an append: what, its cost, and how it was measured.</summary>
internal sealed record ProfileRow(string Component, string Cost, string Detail);
