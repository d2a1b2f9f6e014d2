using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Policy.Tests")]
[assembly: InternalsVisibleTo("Enclave.Fuzz")]
