using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Airlock.Tests")]
