using Enclave.Server.Hosting;
using Enclave.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.Server.Retention;

/// <summary>Registers content retention when it is enabled.</summary>
public static class RetentionServices
{
    /// <summary>
    /// When <paramref name="settings"/> enable retention: <see cref="ContentRetentionStore"/> (<c>DATA/retention.db</c>,
    /// sealed under the key file) and its hourly <see cref="RetentionPurgeService"/>. Off: nothing is registered and the
    /// request handler keeps no content.
    /// </summary>
    public static IServiceCollection AddEnclaveRetention(this IServiceCollection services, ServerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Retention.Enabled)
        {
            services.TryAddSingleton(sp =>
            {
                var validated = sp.GetRequiredService<ServerSettings>();
                return new ContentRetentionStore(
                    validated.DataDirectory,
                    RetentionKey.Load(validated.Retention.KeyFile!),
                    TimeSpan.FromDays(validated.Retention.Days),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<StateConnectionFactory>());
            });
            services.AddHostedService<RetentionPurgeService>();
        }

        return services;
    }
}
