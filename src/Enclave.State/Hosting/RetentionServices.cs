using Enclave.State.Retention;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Enclave.State.Hosting;

/// <summary>Registers content retention when it is enabled.</summary>
public static class RetentionServices
{
    /// <summary>
    /// When <paramref name="enabled"/> (the host's <c>Retention:Enabled</c>, read before its settings are validated):
    /// <see cref="ContentRetentionStore"/> (<c>DATA/retention.db</c>, or the retention schema of the state's
    /// <see cref="StateConnectionFactory"/>, sealed under the key file) and its hourly purge, both added with
    /// <c>TryAdd*</c>/<c>AddHostedService</c>; <paramref name="settings"/> gives the data directory and the validated
    /// <c>Retention</c> section when the store is first resolved. Off: nothing is registered and the request handler
    /// keeps no content.
    /// </summary>
    public static IServiceCollection AddEnclaveRetention(this IServiceCollection services, bool enabled, Func<IServiceProvider, (string DataDirectory, RetentionOptions Retention)> settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        if (enabled)
        {
            services.TryAddSingleton(sp =>
            {
                var (dataDirectory, retention) = settings(sp);
                return new ContentRetentionStore(
                    dataDirectory,
                    RetentionKey.Load(retention.KeyFile!),
                    TimeSpan.FromDays(retention.Days),
                    sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<StateConnectionFactory>());
            });
            services.AddHostedService<RetentionPurgeService>();
        }

        return services;
    }
}
