using Enclave.Core.Hosting;
using Enclave.Inference.Gguf;
using Enclave.Inference.Onnx;
using Enclave.Inference.Upstream;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Enclave.Inference.Hosting;

/// <summary>Registers the inference settings that live in <c>Enclave.Inference</c>, bound from configuration.</summary>
public static class InferenceOptionsServices
{
    /// <summary>
    /// <see cref="UpstreamOptions"/> (section <c>Upstream</c>), <see cref="GgufEngineOptions"/> (<c>Engine:Gguf</c>) and
    /// <see cref="OnnxEngineOptions"/> (<c>Engine:Onnx</c>, its problems prefixed with the section), in this order, each
    /// an immutable record validated on start with every problem listed (<c>AddValidatedRecord</c>).
    /// The host registers what serves models over them (its model catalog and the start-up stage that loads them).
    /// </summary>
    public static IServiceCollection AddEnclaveInferenceOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddValidatedRecord(
            () => configuration.GetSection("Upstream").Get<UpstreamOptions>() ?? new UpstreamOptions(),
            options => options.Validate());
        services.AddValidatedRecord(
            () => configuration.GetSection("Engine:Gguf").Get<GgufEngineOptions>() ?? new GgufEngineOptions(),
            options => options.Validate());
        services.AddValidatedRecord(
            () => configuration.GetSection("Engine:Onnx").Get<OnnxEngineOptions>() ?? new OnnxEngineOptions(),
            options => [.. options.Problems().Select(p => "Engine:Onnx: " + p)]);
        return services;
    }
}
