// The one thread every llama.cpp loop of the GGUF benches runs on (GgufBench, GgufAbBench).
internal static class LoopThread
{
    private static readonly System.Collections.Concurrent.BlockingCollection<Action> Work = Start();

    /// <summary>
    /// Runs a loop on the one thread every llama.cpp loop of this bench runs on, as the engine's batch decodes on one
    /// thread of its own: llama.cpp's CPU backend here is built with OpenMP, whose team of worker threads belongs to the
    /// thread that calls it, so a loop run from whichever thread-pool thread an await resumed on starts other teams.
    /// </summary>
    public static Task<double> Run(Func<double> loop)
    {
        var done = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        Work.Add(() => done.SetResult(loop()));
        return done.Task;
    }

    private static System.Collections.Concurrent.BlockingCollection<Action> Start()
    {
        var work = new System.Collections.Concurrent.BlockingCollection<Action>();
        new Thread(() =>
        {
            foreach (var item in work.GetConsumingEnumerable())
            {
                item();
            }
        }) { IsBackground = true, Name = "llama.cpp loop" }.Start();
        return work;
    }
}
