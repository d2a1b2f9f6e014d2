using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Airlock.Tests")]

// The crash-test child process sets the import pipeline's internal fault point (where to stop before SIGKILL).
[assembly: InternalsVisibleTo("Enclave.Airlock.ImportHost")]
[assembly: InternalsVisibleTo("Enclave.Cli.Tests")]
[assembly: InternalsVisibleTo("Enclave.Bench.Airlock")]
[assembly: InternalsVisibleTo("Enclave.Fuzz")]
