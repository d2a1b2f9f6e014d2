using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Inference.Tests")]
[assembly: InternalsVisibleTo("Enclave.Fuzz")]
[assembly: InternalsVisibleTo("Enclave.Bench.Engine")]
