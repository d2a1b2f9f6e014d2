using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.State.Tests")]
