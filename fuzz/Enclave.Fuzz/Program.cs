using System.Globalization;
using Enclave.Fuzz;
using SharpFuzz;

// The Enclave assemblies in fuzz/out are instrumented: every branch writes to SharpFuzz's trace map. Until
// Fuzzer.Run points it at afl++'s shared memory (and in the list, seed and replay modes, which never do), give
// it a private map so that instrumented code can run at all.
unsafe
{
    SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(65536);
}


// Usage (fuzz/README.md):
//   Enclave.Fuzz list                     the harness names, one a line
//   Enclave.Fuzz seed <harness> <folder>  writes the harness's seed inputs into <folder>
//   Enclave.Fuzz run <harness>            the afl++ target (under afl-fuzz; once on standard input otherwise)
//   Enclave.Fuzz replay <harness> <file>  runs one input outside afl++ (a crash prints its exception and exits 1)
if (args.Length == 1 && args[0] == "list")
{
    foreach (var harness in Harnesses.All)
    {
        Console.WriteLine($"{harness.Name}\t{harness.Parser}");
    }

    return 0;
}

if (args.Length >= 2 && Harnesses.Find(args[1]) is { } selected)
{
    switch (args[0])
    {
        case "seed" when args.Length == 3:
            Directory.CreateDirectory(args[2]);
            var count = 0;
            foreach (var (name, bytes) in selected.Seeds())
            {
                File.WriteAllBytes(Path.Combine(args[2], name), bytes);
                count++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{selected.Name}: {count} seed(s) in {args[2]}"));
            return 0;
        case "run" when args.Length == 2:
            // Out of process: a stack overflow or a hang kills the child, which afl++ then records as a crash or a
            // hang, and the fork server starts a fresh child.
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                selected.Run(buffer.ToArray());
            });
            return 0;
        case "replay" when args.Length == 3:
            selected.Run(File.ReadAllBytes(args[2]));
            Console.WriteLine($"{selected.Name}: {args[2]} handled (accepted or rejected cleanly)");
            return 0;
    }
}

Console.Error.WriteLine("usage: Enclave.Fuzz list | seed <harness> <folder> | run <harness> | replay <harness> <file>");
Console.Error.WriteLine("harnesses: " + string.Join(", ", Harnesses.All.Select(h => h.Name)));
return 2;
