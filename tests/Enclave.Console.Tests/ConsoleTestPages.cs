namespace Enclave.OperatorConsole.Tests;

/// <summary>Every page of the console, as an admin reaches it.</summary>
internal static class ConsoleTestPages
{
    public static readonly string[] All =
    [
        "/console/signin",
        "/console",
        "/console/audit",
        "/console/audit/0",
        "/console/airlock",
        "/console/users",
        "/console/alerts",
        "/console/usage",
        "/console/intel",
        "/console/vulnerabilities",
        "/console/policy",
        "/console/settings",
        "/console/models",
    ];
}
