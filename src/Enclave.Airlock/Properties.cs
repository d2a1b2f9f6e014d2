using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Airlock.Tests")]
[assembly: InternalsVisibleTo("Enclave.Cli.Tests")]
[assembly: InternalsVisibleTo("Enclave.Bench.Airlock")]
