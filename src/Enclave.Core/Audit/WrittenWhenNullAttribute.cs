namespace Enclave.Core.Audit;

/// <summary>
/// On a property of an <see cref="IAuditDetails"/> record: the field is written as JSON <c>null</c> when the property is
/// null, instead of being omitted (as the events that carry it have always been written; <c>docs/audit-events.md</c>
/// says <c>null</c> for these fields).
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class WrittenWhenNullAttribute : Attribute;
