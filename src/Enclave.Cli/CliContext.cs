namespace Enclave.Cli;

/// <summary>Where a command reads and writes: the process's standard streams, or test doubles.</summary>
public sealed class CliContext
{
    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TextReader In { get; init; }

    /// <summary>Standard output as bytes, for commands that print exact bytes.</summary>
    public required Func<Stream> OpenStandardOutput { get; init; }

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Whether progress bars may be drawn (standard error is a terminal).</summary>
    public bool Interactive { get; init; }

    public static CliContext FromConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        OpenStandardOutput = Console.OpenStandardOutput,
        Interactive = !Console.IsErrorRedirected,
    };
}
