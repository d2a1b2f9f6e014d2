namespace Enclave.Core.Audit;

/// <summary>
/// One declared audit event type: its name, and its details record (<see cref="IAuditDetails"/>), whose properties are
/// the fields its <c>details</c> object may hold. Declared once, in <see cref="AuditEventTypes"/>, and documented in
/// <c>docs/audit-events.md</c> (a test keeps the two equal).
/// </summary>
public sealed record AuditEventType
{
    private readonly HashSet<string> _fields;

    /// <summary>Declares a type whose details are <typeparamref name="TDetails"/> records.</summary>
    public static AuditEventType Of<TDetails>(string name)
        where TDetails : class, IAuditDetails =>
        new(name, typeof(TDetails), [.. AuditDetailsShape.Of(typeof(TDetails)).Fields]);

    /// <summary>A type with the names of every field its details may hold and no record (the writer's own tests).</summary>
    internal AuditEventType(string name, params string[] fields)
        : this(name, null, fields)
    {
    }

    private AuditEventType(string name, Type? detailsType, string[] fields)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(fields);
        Name = name;
        DetailsType = detailsType;
        Fields = fields;
        _fields = new HashSet<string>(fields, StringComparer.Ordinal);
        if (_fields.Count != fields.Length)
        {
            throw new ArgumentException($"audit event type {name} declares a field twice", nameof(fields));
        }
    }

    /// <summary>The dotted lower-case type written to the ledger, e.g. <c>request.admitted</c>.</summary>
    public string Name { get; }

    /// <summary>The record its details are written from; null only for types made by tests.</summary>
    public Type? DetailsType { get; }

    /// <summary>Every field the details object may hold: the record's properties, in declaration order.</summary>
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
