using Enclave.Core.Audit;
using Enclave.Ledger;

namespace Enclave.EndToEnd.Tests;

/// <summary>
/// Checks a real ledger against the audit vocabulary: every entry's type is declared in <see cref="AuditEventTypes"/>
/// (and so documented in docs/audit-events.md) and every top-level field of its details is declared for that type.
/// The end-to-end fixtures run it over everything their tests wrote before they delete the data directory.
/// </summary>
internal static class AuditVocabulary
{
    public static void AssertDeclared(string dataDirectory)
    {
        var problems = Undeclared(dataDirectory);
        Assert.True(problems.Count == 0, "the ledger holds undeclared audit vocabulary (declare it in AuditEventTypes and docs/audit-events.md):\n- " + string.Join("\n- ", problems));
    }

    public static List<string> Undeclared(string dataDirectory)
    {
        var problems = new List<string>();
        using var reader = LedgerReader.Open(dataDirectory);
        var size = reader.TreeSize();
        for (long i = 0; i < size; i++)
        {
            var entry = AuditEvent.Parse(reader.ReadEntry(i));
            if (AuditEventTypes.Find(entry.Type) is not { } type)
            {
                problems.Add($"entry {i}: type '{entry.Type}' is not declared");
                continue;
            }

            if (entry.Details is { } details)
            {
                foreach (var field in details.EnumerateObject())
                {
                    if (!type.Declares(field.Name))
                    {
                        problems.Add($"entry {i}: {entry.Type} field '{field.Name}' is not declared");
                    }
                }
            }
        }

        return problems;
    }
}
