using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Enclave.Core.Hosting;

/// <summary>
/// Options of an immutable settings record (<c>sealed record</c> with <c>init</c> properties, which the options pattern
/// cannot configure in place): the record is read from configuration by a function, validated by the record's own
/// <c>Validate()</c> (every problem listed) with <c>ValidateOnStart</c>, and registered as itself for injection. Every
/// component's registration (<c>AddEnclave&lt;Component&gt;</c>) binds its own options record with it.
/// </summary>
public static class ValidatedRecordOptions
{
    /// <summary>
    /// Registers <typeparamref name="T"/> as read by <paramref name="read"/> and validated on start by
    /// <paramref name="validate"/> (all its problems in one <see cref="OptionsValidationException"/>), injectable as
    /// itself; a record registered before is kept (<c>TryAdd*</c>).
    /// </summary>
    public static OptionsBuilder<T> AddValidatedRecord<T>(this IServiceCollection services, Func<T> read, Func<T, IReadOnlyList<string>> validate)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(validate);
        services.TryAddTransient<IOptionsFactory<T>>(sp => new Factory<T>(
            read, sp.GetServices<IConfigureOptions<T>>(), sp.GetServices<IPostConfigureOptions<T>>(), sp.GetServices<IValidateOptions<T>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<T>>(new Validator<T>(validate)));
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return services.AddOptions<T>().ValidateOnStart();
    }

    private sealed class Factory<T>(
        Func<T> read,
        IEnumerable<IConfigureOptions<T>> setups,
        IEnumerable<IPostConfigureOptions<T>> postConfigures,
        IEnumerable<IValidateOptions<T>> validations)
        : OptionsFactory<T>(setups, postConfigures, validations)
        where T : class
    {
        protected override T CreateInstance(string name) => read();
    }

    private sealed class Validator<T>(Func<T, IReadOnlyList<string>> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var problems = validate(options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
