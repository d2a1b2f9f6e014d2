using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Server.Tests")]
[assembly: InternalsVisibleTo("Enclave.EndToEnd.Tests")]
[assembly: InternalsVisibleTo("Enclave.Fuzz")]
[assembly: InternalsVisibleTo("Enclave.Console.Tests")]
