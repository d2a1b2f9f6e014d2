using Enclave.Inference.Upstream;

namespace Enclave.Inference.Tests.Upstream;

public sealed class UpstreamOptionsTests
{
    private static readonly UpstreamBackendOptions Valid = new()
    {
        Name = "vllm-gpu-1",
        BaseUrl = "http://10.0.0.5:8000/v1",
        ApiKeyReference = "env:VLLM_API_KEY",
        Models = ["Qwen/Qwen2.5-7B-Instruct"],
        Labels = new UpstreamLabels { Classification = "SECRET", Jurisdiction = "FR" },
    };

    [Fact]
    public void ValidOptions_HaveNoProblems()
    {
        Assert.Empty(Valid.Validate());
        Assert.Empty(new UpstreamOptions { Backends = [Valid, Valid with { Name = "vllm-gpu-2" }] }.Validate());
        Assert.Empty((Valid with { BaseUrl = "https://api.example.org/v1", Labels = Valid.Labels with { LeavesEnclave = true } }).Validate());
    }

    [Fact]
    public void InvalidOptions_ReportEveryProblemAtOnce()
    {
        var options = new UpstreamBackendOptions
        {
            Name = "bad name!",
            BaseUrl = "ftp://example.org/v1",
            Models = [],
            Labels = new UpstreamLabels(),
            Timeout = TimeSpan.Zero,
            MaxRetries = 11,
            HealthCheckPath = "http://elsewhere/health",
            MaxResponseBytes = 10,
            MaxSseLineBytes = int.MaxValue,
        };

        var problems = options.Validate();

        foreach (var setting in new[] { "Name", "BaseUrl", "Models", "Classification", "Jurisdiction", "Timeout", "MaxRetries", "HealthCheckPath", "MaxResponseBytes", "MaxSseLineBytes" })
        {
            Assert.Contains(problems, p => p.Contains(setting, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void BaseUrl_WithCredentials_IsRejectedWithoutEchoingThem()
    {
        var problems = (Valid with { BaseUrl = "http://user:hunter2@10.0.0.5:8000/v1" }).Validate();

        var problem = Assert.Single(problems);
        Assert.Contains("credentials", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ABackendLeavingTheEnclave_MustUseHttps()
    {
        var problems = (Valid with { BaseUrl = "http://api.example.org/v1", Labels = Valid.Labels with { LeavesEnclave = true } }).Validate();

        Assert.Contains("https", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sk-proj-abcdefABCDEF0123456789")]
    [InlineData("abcdef0123456789abcdef0123456789")]
    [InlineData("env:not a name")]
    [InlineData("relative/path/key.txt")]
    public void ApiKeyReference_ThatIsNotAReference_IsRejectedWithoutEchoingIt(string reference)
    {
        var problem = Assert.Single((Valid with { ApiKeyReference = reference }).Validate());

        Assert.Contains("ApiKeyReference", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(reference, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("VLLM_API_KEY")]
    [InlineData("env:vllm_api_key")]
    [InlineData("file:secrets/vllm.key")]
    [InlineData("/run/secrets/vllm.key")]
    public void ApiKeyReference_AcceptsVariablesAndFiles(string? reference)
    {
        Assert.Empty((Valid with { ApiKeyReference = reference }).Validate());
    }

    [Fact]
    public void RouterOptions_RejectDuplicateNamesIgnoringCase_AndBadLimits()
    {
        var problems = new UpstreamOptions
        {
            Backends = [Valid, Valid with { Name = "VLLM-GPU-1" }],
            MaxRetryWait = TimeSpan.FromHours(1),
            RetryBackoff = TimeSpan.FromSeconds(-1),
            MaxAttempts = 0,
        }.Validate();

        Assert.Equal(4, problems.Count);
        Assert.Contains(problems, p => p.Contains("VLLM-GPU-1", StringComparison.Ordinal));
    }

    [Fact]
    public void Key_ResolvesFromAnEnvironmentVariable()
    {
        var key = UpstreamApiKey.Resolve("env:VLLM_API_KEY", "a", name => name == "VLLM_API_KEY" ? " sk-123 \n" : null);

        Assert.Equal("sk-123", key);
        Assert.Equal("sk-123", UpstreamApiKey.Resolve("VLLM_API_KEY", "a", name => name == "VLLM_API_KEY" ? "sk-123" : null));
        Assert.Null(UpstreamApiKey.Resolve(null, "a"));
    }

    [Fact]
    public void Key_ResolvesFromAFile_TrimmingTheLineBreak()
    {
        var path = Path.Combine(Path.GetTempPath(), "enclave-upstream-key-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(path, "sk-from-file\n");
        try
        {
            Assert.Equal("sk-from-file", UpstreamApiKey.Resolve("file:" + path, "a"));
            Assert.Equal("sk-from-file", UpstreamApiKey.Resolve(path, "a"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Key_Missing_NamesTheVariableOrFile()
    {
        var variable = Assert.Throws<UpstreamConfigurationException>(() => UpstreamApiKey.Resolve("env:NOT_SET_HERE", "vllm-a", _ => null));
        var file = Assert.Throws<UpstreamConfigurationException>(() => UpstreamApiKey.Resolve("file:/nonexistent/enclave/key", "vllm-a"));

        Assert.Contains("NOT_SET_HERE", variable.Message, StringComparison.Ordinal);
        Assert.Contains("vllm-a", variable.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/enclave/key", file.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_FileTooLargeOrWithInnerWhitespace_IsRejectedWithoutTheKey()
    {
        var path = Path.Combine(Path.GetTempPath(), "enclave-upstream-key-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(path, new string('k', UpstreamApiKey.MaxKeyFileBytes + 1));
            Assert.Throws<UpstreamConfigurationException>(() => UpstreamApiKey.Resolve(path, "a"));

            File.WriteAllText(path, "sk-line-one\nsk-line-two\n");
            var error = Assert.Throws<UpstreamConfigurationException>(() => UpstreamApiKey.Resolve(path, "a"));
            Assert.DoesNotContain("sk-line", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
