namespace Enclave.Core.Audit;

/// <summary>
/// One declared audit event type: its name, and the fields its <c>details</c> object may hold. Declared once, in
/// <see cref="AuditEventTypes"/>, and documented in <c>docs/audit-events.md</c> (a test keeps the two equal).
/// </summary>
public sealed record AuditEventType
{
    private readonly HashSet<string> _fields;

    /// <summary>Declares a type with the names of every field its details may hold.</summary>
    public AuditEventType(string name, params string[] fields)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(fields);
        Name = name;
        Fields = fields;
        _fields = new HashSet<string>(fields, StringComparer.Ordinal);
        if (_fields.Count != fields.Length)
        {
            throw new ArgumentException($"audit event type {name} declares a field twice", nameof(fields));
        }
    }

    /// <summary>The dotted lower-case type written to the ledger, e.g. <c>request.admitted</c>.</summary>
    public string Name { get; }

    /// <summary>Every field the details object may hold, in documentation order.</summary>
    public IReadOnlyList<string> Fields { get; }

    /// <summary>True when <paramref name="field"/> is a declared top-level field of this type's details.</summary>
    public bool Declares(string field) => _fields.Contains(field);

    /// <inheritdoc/>
    public override string ToString() => Name;

    /// <inheritdoc/>
    public bool Equals(AuditEventType? other) => other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);
}
