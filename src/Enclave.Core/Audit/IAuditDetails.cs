namespace Enclave.Core.Audit;

/// <summary>
/// The typed details of one audit event type: a <c>sealed record</c> whose public properties are the fields of the
/// event's <c>details</c> object, registered with its type in <see cref="AuditEventTypes"/> (one record per type, one type
/// per record). A property's field name is its <see cref="System.Text.Json.Serialization.JsonPropertyNameAttribute"/>,
/// or its name in camelCase; a null property is omitted unless it carries <see cref="WrittenWhenNullAttribute"/>. The
/// canonical bytes are those <see cref="CanonicalJson"/> gives for the <see cref="System.Text.Json.Nodes.JsonObject"/>
/// with the same members, as the ledger's first events were written.
/// </summary>
public interface IAuditDetails
{
    /// <summary>
    /// Writes the details' members in canonical order. The default reads the record's properties; the request path's
    /// records write theirs by hand (a test holds the two to the same bytes).
    /// </summary>
    void Write(ref AuditDetailsWriter details) => AuditDetailsShape.Of(GetType()).Write(this, ref details);
}
