using System.Text.Json;

namespace Enclave.Bench.Gateway;

/// <summary>
/// The child side of the parent–child protocol: one JSON line on stdout when ready, then a <see cref="ChildStats"/>
/// JSON line for every <c>stats</c> line on stdin, and a clean stop when stdin closes (the parent exited or is done).
/// Logs go to stderr so that stdout carries only these lines.
/// </summary>
internal static class ChildControl
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task ServeUntilStdinClosesAsync<TReady>(TReady ready, Func<ChildStats> stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var stdout = Console.Out;
        await stdout.WriteLineAsync(JsonSerializer.Serialize(ready, Json)).ConfigureAwait(false);
        await stdout.FlushAsync().ConfigureAwait(false);
        while (await Console.In.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            if (line.Trim() == "stats")
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(stats(), Json)).ConfigureAwait(false);
                await stdout.FlushAsync().ConfigureAwait(false);
            }
        }
    }
}
