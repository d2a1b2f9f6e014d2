using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Core.Tests")]
