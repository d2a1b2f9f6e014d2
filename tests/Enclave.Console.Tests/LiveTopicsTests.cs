using System.Text;
using Enclave.OperatorConsole.Live;

namespace Enclave.OperatorConsole.Tests;

/// <summary>How a ledger entry's type becomes the topic the console's live parts listen for, and who is told.</summary>
public sealed class LiveTopicsTests
{
    [Theory]
    [InlineData("import.received", LiveTopics.Airlock)]
    [InlineData("import.verified", LiveTopics.Airlock)]
    [InlineData("import.approved", LiveTopics.Airlock)]
    [InlineData("import.activated", LiveTopics.Airlock)]
    [InlineData("import.rejected", LiveTopics.Airlock)]
    [InlineData("alert.raised", LiveTopics.Alerts)]
    [InlineData("alert.resolved", LiveTopics.Alerts)]
    [InlineData("key.revoked", LiveTopics.Identity)]
    [InlineData("user.disabled", LiveTopics.Identity)]
    [InlineData("user.updated", LiveTopics.Identity)]
    [InlineData("key.created", LiveTopics.None)]
    [InlineData("request.admitted", LiveTopics.None)]
    [InlineData("imports.other", LiveTopics.None)]
    public void AnEntrysTopLevelType_GivesItsTopic(string type, LiveTopics expected) =>
        Assert.Equal(expected, ConsoleLiveUpdates.TopicOf(Entry(type)));

    [Fact]
    public void ATypeNestedInTheDetails_IsNotTheEntrysType()
    {
        var entry = Encoding.UTF8.GetBytes("{\"actor\":\"user:a\",\"details\":{\"type\":\"import.verified\",\"x\":[{\"type\":\"alert.raised\"}]},\"type\":\"request.completed\"}");
        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.TopicOf(entry));
        var after = Encoding.UTF8.GetBytes("{\"details\":{\"type\":\"request.completed\"},\"type\":\"alert.acknowledged\"}");
        Assert.Equal(LiveTopics.Alerts, ConsoleLiveUpdates.TopicOf(after));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("\"import.verified\"")]
    [InlineData("{\"type\":1}")]
    [InlineData("{\"type\":null}")]
    [InlineData("{\"details\":{\"a\":")]
    [InlineData("{\"type\":\"import.ver")]
    [InlineData("{\"details\":{},")]
    public void ATamperedOrTruncatedEntry_HasNoTopic(string text) =>
        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.TopicOf(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void InvalidUtf8InTheType_HasNoTopic_AndAnOversizedEntry_IsReadToItsType()
    {
        byte[] invalid = [.. "{\"type\":\""u8, 0xFF, 0xFE, .. "import.verified\"}"u8];
        Assert.Equal(LiveTopics.None, ConsoleLiveUpdates.TopicOf(invalid));
        // A big entry is read forward once: its type is found after a megabyte of details.
        var big = Encoding.UTF8.GetBytes("{\"details\":{\"text\":\"" + new string('x', 1 << 20) + "\"},\"type\":\"import.rejected\"}");
        Assert.Equal(LiveTopics.Airlock, ConsoleLiveUpdates.TopicOf(big));
    }

    [Fact]
    public void Subscribers_AreToldEachPublication_UntilTheyDispose_AndNothingIsPublishedForNoTopic()
    {
        var updates = new ConsoleLiveUpdates();
        var a = new List<LiveTopics>();
        var b = new List<LiveTopics>();
        var first = updates.Subscribe(a.Add);
        using var second = updates.Subscribe(b.Add);
        Assert.Equal(2, updates.Subscribers);

        updates.Publish(LiveTopics.Airlock | LiveTopics.Alerts);
        updates.Publish(LiveTopics.None);
        first.Dispose();
        first.Dispose();
        updates.Publish(LiveTopics.Identity);

        Assert.Equal([LiveTopics.Airlock | LiveTopics.Alerts], a);
        Assert.Equal([LiveTopics.Airlock | LiveTopics.Alerts, LiveTopics.Identity], b);
        Assert.Equal(1, updates.Subscribers);
        Assert.Equal(2, updates.Published);
    }

    private static byte[] Entry(string type) =>
        Encoding.UTF8.GetBytes($"{{\"actor\":\"user:a\",\"details\":{{\"label\":\"UNCLASSIFIED\"}},\"index\":3,\"subject\":\"import:x\",\"time\":\"2026-12-07T10:00:00Z\",\"type\":\"{type}\"}}");
}
