using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Inference.Tests")]
[assembly: InternalsVisibleTo("Enclave.Fuzz")]
[assembly: InternalsVisibleTo("Enclave.Bench.Engine")]

// The end-to-end tests link the Bedrock wire-protocol test server, which checks SigV4 and frames event streams with these.
[assembly: InternalsVisibleTo("Enclave.EndToEnd.Tests")]
