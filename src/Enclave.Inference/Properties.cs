using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Inference.Tests")]
