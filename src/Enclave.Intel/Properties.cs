using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Intel.Tests")]
