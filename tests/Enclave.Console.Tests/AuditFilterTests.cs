using System.Text.Json;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.OperatorConsole.Components.Pages;

namespace Enclave.OperatorConsole.Tests;

/// <summary>
/// The audit log's filter, which looks only at an entry's top-level <c>type</c> and <c>actor</c> without parsing the
/// event (so that a filtered view reads its window of entries cheaply): the same answer as comparing the parsed event.
/// </summary>
public sealed class AuditFilterTests
{
    private static readonly byte[] Verified = new AuditEvent
    {
        Type = AuditEventTypes.ImportVerified.Name,
        Time = DateTimeOffset.Parse("2026-12-07T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
        Actor = "user:ingrid",
        Subject = "import:imp_1",

        // Hand-built details: nested keys named like the envelope's must not be taken for it.
        Details = JsonSerializer.SerializeToElement(new JsonObject
        {
            ["targets"] = new JsonArray(new JsonObject { ["path"] = "model.onnx", ["type"] = "key.created", ["actor"] = "user:admin" }),
            ["kind"] = "model",
        }),
    }.ToCanonicalJson();

    [Theory]
    [InlineData(null, null, true)]
    [InlineData("", "  ", true)]
    [InlineData("import.verified", null, true)]
    [InlineData(null, "user:ingrid", true)]
    [InlineData("import.verified", "user:ingrid", true)]
    [InlineData("key.created", null, false)]
    [InlineData(null, "user:admin", false)]
    [InlineData("import.verified", "user:admin", false)]
    [InlineData("import", null, false)]
    [InlineData("import.verified.x", null, false)]
    public void Matches_ReadsOnlyTheTopLevelTypeAndActor_AsTheParsedEventHasThem(string? type, string? actor, bool expected)
    {
        var parsed = AuditEvent.Parse(Verified);
        Assert.Equal(
            (string.IsNullOrWhiteSpace(type) || parsed.Type == type) && (string.IsNullOrWhiteSpace(actor) || parsed.Actor == actor),
            expected);
        Assert.Equal(expected, Audit.Matches(Verified, type?.Trim(), actor?.Trim()));
    }
}
