using System.Text;
using Enclave.Intel.Sigma;

namespace Enclave.Intel.Tests.Sigma;

internal static class SigmaTestSupport
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public static SigmaRuleSet Rules(params string[] yaml) =>
        SigmaRuleSet.Load(yaml.Select((y, i) => ($"rule{i}.yml", Encoding.UTF8.GetBytes(y))));

    public static SigmaRule Rule(string yaml)
    {
        var set = Rules(yaml);
        Assert.True(set.Skipped.Count == 0, string.Join("; ", set.Skipped.Select(s => s.Detail)));
        return Assert.Single(set.Rules);
    }

    public static SigmaEvent Event(params (string Field, string? Value)[] fields) =>
        SigmaEvent.FromFields(T0, new SigmaLogSource { Product = "test" }, fields.ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal));

    public static string Detection(string detection, string product = "test") =>
        $"title: t\nid: r1\nlogsource:\n    product: {product}\ndetection:\n{detection}\n";

    /// <summary>An audit event as <c>enclave ledger get</c> prints it (canonical JSON: keys sorted).</summary>
    public static SigmaEvent Audit(DateTimeOffset time, string type, string actor, string subject, string detailsJson, long position) =>
        SigmaEvent.FromAuditJson(Encoding.UTF8.GetBytes(
            $"{{\"actor\":\"{actor}\",\"details\":{detailsJson},\"subject\":\"{subject}\",\"time\":\"{time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}\",\"type\":\"{type}\"}}"), position);

    /// <summary>The example rules shipped in src/Enclave.Intel/Sigma/Rules.</summary>
    public static string ExampleRules()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Enclave.Intel", "Sigma", "Rules");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("src/Enclave.Intel/Sigma/Rules not found above the test binaries");
    }
}
