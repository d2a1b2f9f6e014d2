using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("Enclave.Ledger.Tests")]
[assembly: InternalsVisibleTo("Enclave.Cli.Tests")]
