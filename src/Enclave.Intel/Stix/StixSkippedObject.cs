namespace Enclave.Intel.Stix;

/// <summary>An object of the bundle that could not be used, with the reason (a bundle is not rejected for one bad object).</summary>
public sealed record StixSkippedObject(int Index, string? Id, string Reason);
