using System.Runtime.ExceptionServices;
using LLama;

namespace Enclave.Inference.Gguf;

/// <summary>
/// One llama.cpp context and the one thread of its own that makes every <c>llama_decode</c> on it. llama.cpp's CPU
/// backend in LLamaSharp.Backend.Cpu 0.30.0 runs with OpenMP, whose team of worker threads belongs to the thread that
/// calls it: a loop that calls it from whichever thread-pool thread an <c>await</c> resumed on builds or wakes another
/// team step after step, and was measured 2-5x slower under load (docs/benchmarks.md, "OpenMP"). The batched path
/// decodes on <see cref="GgufBatcher"/>'s thread; unbatched sequences and embeddings hand their work to this thread and
/// wait for it (as they would have computed it themselves), so each context is always driven from the same thread.
/// <para>
/// One caller at a time: a context is rented by one sequence (or one embedding request) until it is given back.
/// The thread is a background thread, named after the model, and ends when this is disposed.
/// </para>
/// </summary>
internal sealed class LlamaThread : IDisposable
{
    private readonly Thread _thread;
    private readonly SemaphoreSlim _posted = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private readonly Lock _gate = new();
    private Action? _work;
    private ExceptionDispatchInfo? _error;
    private bool _disposed;

    /// <param name="context">The context this thread drives (disposed with it).</param>
    /// <param name="name">The model, for the thread's name.</param>
    public LlamaThread(LLamaContext context, string name)
    {
        Context = context;
        _thread = new Thread(Work) { IsBackground = true, Name = "enclave-gguf " + name };
        _thread.Start();
    }

    /// <summary>The context; call llama.cpp on it only inside <see cref="Run"/>.</summary>
    public LLamaContext Context { get; }

    /// <summary>The managed ID of the thread that runs the work (tests check that it is the same for every call).</summary>
    public int ThreadId => _thread.ManagedThreadId;

    /// <summary>Runs <paramref name="work"/> on this context's thread and waits for it; what it throws is thrown here.</summary>
    /// <exception cref="ObjectDisposedException">The context was disposed (the model unloaded).</exception>
    public void Run(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Environment.CurrentManagedThreadId == _thread.ManagedThreadId)
        {
            work();
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _work = work;
            _error = null;
            _done.Reset();
            _posted.Release();
            _done.Wait();
            var error = _error;
            _work = null;
            _error = null;
            error?.Throw();
        }
    }

    /// <summary>Ends the thread once the work in hand (if any) is done, and disposes the context.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _posted.Release();
        }

        if (Environment.CurrentManagedThreadId != _thread.ManagedThreadId)
        {
            _thread.Join();
        }

        Context.Dispose();
        _posted.Dispose();
        _done.Dispose();
    }

    private void Work()
    {
        while (true)
        {
            _posted.Wait();
            if (Volatile.Read(ref _disposed))
            {
                return;
            }

            try
            {
                _work!();
            }
#pragma warning disable CA1031 // whatever the work throws belongs to the caller waiting for it, who throws it again
            catch (Exception e)
#pragma warning restore CA1031
            {
                _error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                _done.Set();
            }
        }
    }
}
