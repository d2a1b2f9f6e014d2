using Enclave.Airlock.Scanners;
using Enclave.Core;

namespace Enclave.Airlock.Tests.Scanners;

public sealed class DigestDenyListScannerTests : IDisposable
{
    private readonly ScannerTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Scan_RejectsDenyListedDigest_AndPassesOthers()
    {
        byte[] bad = [1, 2, 3, 4];
        var list = $"# known-bad models\n\n{Sha256Digest.Compute(bad)} trojaned-demo.onnx\n{Sha256Digest.Compute([9])}\n";
        var scanner = DigestDenyListScanner.Parse(new StringReader(list));

        Assert.Equal(2, scanner.Count);
        var result = scanner.Scan(_files.Write("x.onnx", bad));
        Assert.Contains(result.Findings, f => f.Contains("deny-list", StringComparison.Ordinal));
        Assert.True(scanner.Scan(_files.Write("y.onnx", [1, 2, 3, 5])).IsClean);
        Assert.True(scanner.IsDenied(Sha256Digest.Compute(bad)));
    }

    [Fact]
    public void Parse_RefusesABadLine()
    {
        Assert.Throws<EnclaveFormatException>(() => DigestDenyListScanner.Parse(new StringReader("not-a-digest\n")));
    }

    [Fact]
    public void Pipeline_FailsClosed_OnAFileItCannotRead()
    {
        var notAFile = Path.Combine(_files.Root, "weights.pkl");
        Directory.CreateDirectory(notAFile);
        var pipeline = ContentScanPipeline.CreateDefault(new DigestDenyListScanner([]));

        var results = pipeline.Scan([notAFile]);

        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.False(r.IsClean));
    }

    [Fact]
    public void Pipeline_RunsEveryApplicableScanner_AndCollectsFindings()
    {
        var evil = _files.Write("m/model.pkl", "cos\nsystem\n(S'id'\ntR."u8.ToArray());
        var denied = _files.Write("m/model.gguf", [7, 7, 7]);
        var pipeline = ContentScanPipeline.CreateDefault(new DigestDenyListScanner([Sha256Digest.Compute([7, 7, 7])]));

        var results = pipeline.Scan([evil, denied]);

        Assert.Contains(results, r => r.Scanner == "pickle" && !r.IsClean);
        Assert.Contains(results, r => r.Scanner == "gguf" && !r.IsClean);
        Assert.Contains(results, r => r.Scanner == "deny-list" && !r.IsClean);
    }
}
