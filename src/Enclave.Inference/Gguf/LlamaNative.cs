using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Enclave.Inference.Gguf;

/// <summary>
/// The one native llama.cpp library of the process (from <c>LLamaSharp.Backend.Cpu</c>, beside the binary; nothing is
/// downloaded). Before it loads, its log goes to <see cref="Logger"/> (debug and info dropped), so llama.cpp never
/// writes to the console on its own.
/// </summary>
public static partial class LlamaNative
{
    private static readonly Lock Gate = new();
    private static bool _configured;

    /// <summary>Where llama.cpp's warnings and errors go; null drops them.</summary>
    public static ILogger? Logger { get; set; }

    /// <summary>Routes the native log before the library first loads (idempotent).</summary>
    internal static void EnsureConfigured()
    {
        lock (Gate)
        {
            if (_configured)
            {
                return;
            }

            NativeLibraryConfig.All.WithLogCallback(Log);
            NativeLogConfig.llama_log_set(Log);
            _configured = true;
        }
    }

    private static void Log(LLamaLogLevel level, string message)
    {
        if (Logger is not { } logger)
        {
            return;
        }

        var text = message.TrimEnd('\n');
        switch (level)
        {
            case LLamaLogLevel.Error:
                NativeError(logger, text);
                break;
            case LLamaLogLevel.Warning:
                NativeWarning(logger, text);
                break;
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "llama.cpp: {Message}")]
    private static partial void NativeError(ILogger logger, string message);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "llama.cpp: {Message}")]
    private static partial void NativeWarning(ILogger logger, string message);
}
