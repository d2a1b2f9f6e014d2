using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Retrieval.Tests")]
