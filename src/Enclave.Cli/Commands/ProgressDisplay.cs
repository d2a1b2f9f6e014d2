using Spectre.Console;

namespace Enclave.Cli.Commands;

/// <summary>A progress bar on standard error for long work, shown only on a terminal.</summary>
internal static class ProgressDisplay
{
    public static T Run<T>(CliContext context, string title, long total, Func<IProgress<long>?, T> work)
    {
        if (!context.Interactive || total < 100_000)
        {
            return work(null);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T value = default!;
        console.Progress().AutoClear(true).Start(ctx =>
        {
            var task = ctx.AddTask(title, maxValue: total);
            value = work(new Progress<long>(done => task.Value = done));
        });
        return value;
    }

    /// <summary>As <see cref="Run{T}"/>, for asynchronous work (an upload).</summary>
    public static async Task<T> RunAsync<T>(CliContext context, string title, long total, Func<IProgress<long>?, Task<T>> work)
    {
        if (!context.Interactive || total < 100_000)
        {
            return await work(null).ConfigureAwait(false);
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            var task = ctx.AddTask(title, maxValue: total);
            return await work(new Progress<long>(done => task.Value = done)).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }
}
