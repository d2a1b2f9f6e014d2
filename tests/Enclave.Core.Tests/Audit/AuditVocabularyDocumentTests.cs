using System.Text.RegularExpressions;
using Enclave.Core.Audit;

namespace Enclave.Core.Tests.Audit;

/// <summary>
/// docs/audit-events.md and <see cref="AuditEventTypes"/> say the same thing: the same types, and for each type the
/// same fields. The end-to-end fixtures check the other half (every entry a real server wrote is declared).
/// </summary>
public sealed partial class AuditVocabularyDocumentTests
{
    [Fact]
    public void Document_ListsEveryDeclaredType_AndNoOther()
    {
        var documented = Document().Keys.ToHashSet(StringComparer.Ordinal);
        var declared = AuditEventTypes.All.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Empty(declared.Except(documented));
        Assert.Empty(documented.Except(declared));
    }

    [Fact]
    public void Document_GivesEachTypeExactlyItsDeclaredFields()
    {
        var problems = new List<string>();
        foreach (var (name, fields) in Document())
        {
            if (AuditEventTypes.Find(name) is not { } type)
            {
                continue;
            }

            problems.AddRange(type.Fields.Except(fields).Select(f => $"{name}: declared field '{f}' is not documented"));
            problems.AddRange(fields.Except(type.Fields).Select(f => $"{name}: documented field '{f}' is not declared"));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryDeclaredType_HasItsOwnDetailsRecord()
    {
        var problems = new List<string>();
        foreach (var type in AuditEventTypes.All)
        {
            if (type.DetailsType is not { } record)
            {
                problems.Add($"{type.Name} has no details record");
            }
            else if (!record.IsSealed || !typeof(IAuditDetails).IsAssignableFrom(record))
            {
                problems.Add($"{type.Name}: {record.Name} is not a sealed IAuditDetails record");
            }
            else if (AuditEventTypes.Find(record) != type)
            {
                problems.Add($"{type.Name}: {record.Name} is the record of {AuditEventTypes.Find(record)?.Name ?? "no type"}");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryDetailsRecord_IsDeclaredInTheCatalogue()
    {
        // A details record without a type could never be written: it is either unfinished or a leftover.
        var records = typeof(IAuditDetails).Assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && typeof(IAuditDetails).IsAssignableFrom(t));
        Assert.Empty(records.Where(r => AuditEventTypes.Find(r) is null).Select(r => r.Name));
    }

    [Fact]
    public void Document_ListsEveryFieldOfEveryDetailsRecord_AndNoOther()
    {
        var document = Document();
        var problems = new List<string>();
        foreach (var type in AuditEventTypes.All)
        {
            var fields = AuditDetailsShape.Of(type.DetailsType!).Fields;
            var documented = document.GetValueOrDefault(type.Name) ?? [];
            problems.AddRange(fields.Except(documented).Select(f => $"{type.Name}: {type.DetailsType!.Name} has the field '{f}', which docs/audit-events.md does not list"));
            problems.AddRange(documented.Except(fields).Select(f => $"{type.Name}: docs/audit-events.md lists '{f}', which {type.DetailsType!.Name} does not have"));
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void SourceCode_WritesEveryEventThroughItsDetailsRecord()
    {
        // Outside the audit schema itself, an event is created from its typed details record (AuditEvent.Create(time,
        // actor, subject, details)), never from a type and hand-built details.
        var offenders = new List<string>();
        foreach (var file in SourceFiles())
        {
            if (file.Contains(Path.Combine("Enclave.Core", "Audit") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                continue;
            }

            foreach (Match m in UntypedEvent().Matches(File.ReadAllText(file)))
            {
                offenders.Add($"{Path.GetRelativePath(RepositoryRoot(), file)}: {m.Value}");
            }
        }

        Assert.True(offenders.Count == 0, "events written without their details record:\n" + string.Join("\n", offenders));
    }

    [GeneratedRegex("""AuditEvent\.Create\(\s*(AuditEventTypes\.\w+|type)\s*,""")]
    private static partial Regex UntypedEvent();

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    [Fact]
    public void Catalogue_NamesAreValidEventTypes_AndUnique()
    {
        var names = AuditEventTypes.All.Select(t => t.Name).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
        foreach (var name in names)
        {
            var probe = new AuditEvent { Type = name, Time = DateTimeOffset.UnixEpoch, Actor = "system", Subject = "test" };
            Assert.Empty(probe.Validate());
        }
    }

    [Fact]
    public void SourceCode_WritesNoEventTypeAsAStringLiteral()
    {
        // Every event the enclave writes goes through a declared AuditEventType; only the audit schema itself (and the
        // CLI's 'ledger append', which records what an operator gives it) builds events from strings.
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ||
                file.EndsWith(Path.Combine("Enclave.Core", "Audit", "AuditEvent.cs"), StringComparison.Ordinal))
            {
                continue;
            }

            var text = File.ReadAllText(file);
            foreach (Match m in LiteralEvent().Matches(text))
            {
                offenders.Add($"{Path.GetRelativePath(RepositoryRoot(), file)}: {m.Value}");
            }
        }

        Assert.True(offenders.Count == 0, "events built from string literals (use AuditEventTypes):\n" + string.Join("\n", offenders));
    }

    [GeneratedRegex("""(new AuditEvent\s*\{[^}]*Type\s*=\s*"|AuditEvent\.Create\(\s*")""")]
    private static partial Regex LiteralEvent();

    // "### `type`" headings; fields are the first column of the table under a heading (split on commas), plus
    // "Fields: `a`, `b`" lines.
    private static Dictionary<string, HashSet<string>> Document()
    {
        var result = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        HashSet<string>? current = null;
        foreach (var line in File.ReadLines(Path.Combine(RepositoryRoot(), "docs", "audit-events.md")))
        {
            if (line.StartsWith("### ", StringComparison.Ordinal))
            {
                var heading = Code().Match(line);
                current = heading.Success && heading.Groups[1].Value.Contains('.', StringComparison.Ordinal) ? [] : null;
                if (current is not null)
                {
                    Assert.True(result.TryAdd(heading.Groups[1].Value, current), $"{heading.Groups[1].Value} is documented twice");
                }

                continue;
            }

            if (line.StartsWith("## ", StringComparison.Ordinal))
            {
                current = null;
                continue;
            }

            if (current is null)
            {
                continue;
            }

            if (line.StartsWith("| ", StringComparison.Ordinal) && !line.StartsWith("| field", StringComparison.Ordinal) && !line.StartsWith("| ---", StringComparison.Ordinal))
            {
                var firstCell = line.Split('|')[1];
                foreach (Match field in Code().Matches(firstCell))
                {
                    current.Add(field.Groups[1].Value);
                }
            }
            else if (line.StartsWith("Fields:", StringComparison.Ordinal) || line.Contains(". Fields: ", StringComparison.Ordinal))
            {
                var list = line[(line.IndexOf("Fields:", StringComparison.Ordinal) + "Fields:".Length)..];
                foreach (Match field in Code().Matches(list.Split('(')[0]))
                {
                    current.Add(field.Groups[1].Value);
                }
            }
        }

        return result;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Code();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Enclave.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"no Enclave.slnx above {AppContext.BaseDirectory}");
    }
}
