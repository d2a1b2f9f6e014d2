using Enclave.Policy.Identity;

namespace Enclave.Server.Policy;

/// <summary>
/// The directory used when no identity component registered one: it knows no principal, so <c>policy explain</c>
/// answers "unknown user". The identity component replaces it (registered with <c>AddSingleton</c>).
/// </summary>
internal sealed class EmptyPrincipalDirectory : IPrincipalDirectory
{
    public PrincipalInfo? Find(string idOrName) => null;
}
