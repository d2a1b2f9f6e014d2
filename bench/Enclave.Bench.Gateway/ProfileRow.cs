namespace Enclave.Bench.Gateway;

/// <summary>The measured cost of one part of a request, per operation.</summary>
internal sealed record ProfileRow(string Component, double Microseconds, double AllocatedBytes, string How);
