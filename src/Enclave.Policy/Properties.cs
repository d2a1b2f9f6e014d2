using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Policy.Tests")]
