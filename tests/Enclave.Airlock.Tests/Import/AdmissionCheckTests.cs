using Enclave.Airlock.Import;
using Enclave.Core.Artifacts;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// Admission checks see the verified import's label and can read its quarantined files (a dataset's documents are
/// read this way); a refusal with reason <c>dataset</c> rejects the import as <see cref="ImportRejection.Dataset"/>, any
/// other as <see cref="ImportRejection.Intel"/>, the state unchanged either way.
/// </summary>
public sealed class AdmissionCheckTests
{
    private sealed class RecordingCheck(string? refuseWith) : IImportAdmissionCheck
    {
        public ImportCandidate? Seen { get; private set; }

        public byte[]? Read { get; private set; }

        public ValueTask<ImportAdmissionRefusal?> CheckAsync(ImportCandidate candidate, CancellationToken cancellationToken)
        {
            Seen = candidate;
            using (var stream = candidate.OpenFile!("model.onnx"))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                Read = copy.ToArray();
            }

            return ValueTask.FromResult<ImportAdmissionRefusal?>(refuseWith is null ? null : new ImportAdmissionRefusal(refuseWith, "refused by the test", ["first problem", "second problem"]));
        }
    }

    [Fact]
    public async Task AdmissionCheck_SeesTheLabel_AndReadsTheVerifiedFileFromQuarantine()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var check = new RecordingCheck(refuseWith: null);
        context.Importer.AddAdmissionCheck(check);

        var imported = await context.ImportAsync(context.DemoBundle());

        Assert.Equal(ImportState.Verified, imported.State);
        Assert.Equal("UNCLASSIFIED", check.Seen!.Label);
        Assert.Equal(ImportTestRepository.DemoModelFiles()["model.onnx"], check.Read);
        Assert.Throws<FileNotFoundException>(() => check.Seen.OpenFile!("not-a-target.bin"));
    }

    [Theory]
    [InlineData("dataset", ImportRejection.Dataset, "dataset")]
    [InlineData("intel", ImportRejection.Intel, "intel")]
    public async Task AdmissionRefusal_RejectsWithItsReason_AndFindings_StateUnchanged(string reason, ImportRejection expected, string code)
    {
        await using var context = await ImportTestContext.CreateAsync();
        context.Importer.AddAdmissionCheck(new RecordingCheck(reason));
        var before = context.Capture();

        var e = await Assert.ThrowsAsync<ImportRejectedException>(() => context.ImportAsync(context.DemoBundle()));

        Assert.Equal(expected, e.Reason);
        Assert.Equal(code, e.Code);
        Assert.Equal(["first problem", "second problem"], e.Findings);
        var events = context.AssertUnchanged(before, "import.received", "import.rejected");
        Assert.Equal("scan", events[1].Details!.Value.GetProperty("stage").GetString());
        Assert.Equal(2, events[1].Details!.Value.GetProperty("findings").GetArrayLength());
        Assert.Empty(context.QuarantineEntries());
    }
}
