using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Signing.Tests")]
