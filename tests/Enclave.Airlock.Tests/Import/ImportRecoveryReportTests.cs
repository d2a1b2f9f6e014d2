using Enclave.Airlock.Import;

namespace Enclave.Airlock.Tests.Import;

/// <summary>The one line start-up recovery gives the operator (<see cref="ImportRecoveryReport.Describe"/>).</summary>
public sealed class ImportRecoveryReportTests
{
    [Fact]
    public void Describe_WhenRecoveryDidNothing_IsNull()
    {
        var report = new ImportRecoveryReport { QuarantinesRemoved = [], PromotionsUndone = [], TemporaryBlobsRemoved = 0, ImportsLost = [] };

        Assert.Null(report.Describe());
    }

    [Fact]
    public void Describe_NamesEveryThingRecoveryDid_InOneLine()
    {
        var report = new ImportRecoveryReport
        {
            QuarantinesRemoved = ["q1", "q2"],
            PromotionsUndone = ["model/demo/1.0.0"],
            TemporaryBlobsRemoved = 3,
            ImportsLost = ["imp_1"],
        };

        Assert.Equal(
            "airlock recovery: 2 interrupted quarantine(s) removed; unfinished activation(s) undone: model/demo/1.0.0 (approve again to activate); "
            + "3 temporary blob file(s) removed; pending import(s) rejected because their quarantine vanished: imp_1",
            report.Describe());
    }
}
