using Enclave.Policy.Identity;
using Enclave.Server.Auth;
using Enclave.Server.Hosting.Startup;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Server.Hosting;

/// <summary>Registers identities: the principal and key store, API key and OIDC authentication, authorisation.</summary>
public static class IdentityServices
{
    /// <summary>
    /// <see cref="ApiKeyStore"/> (<c>Enclave.Policy</c>'s own registration, <c>AddEnclaveIdentityStore</c>, given the data
    /// directory), the authentication schemes (<see cref="EnclaveAuthentication"/>, single sign-on from
    /// <paramref name="settings"/>' <c>Identity:Oidc</c>), authorisation, and start-up stage 4,
    /// <see cref="IdentityBootstrapStartup"/> (the first admin key of a fresh enclave).
    /// </summary>
    public static IServiceCollection AddEnclaveIdentity(this IServiceCollection services, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        services.AddEnclaveAuthentication(settings.Oidc);
        services.AddAuthorization();
        services.AddHostedService<IdentityBootstrapStartup>();
        return services;
    }
}
