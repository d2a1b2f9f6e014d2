namespace Enclave.State.Models;

/// <summary>Local model folders registered with <c>enclave models add</c>.</summary>
public interface IModelRegistryStore
{
    /// <summary>Registers a model, replacing a registration of the same ID.</summary>
    void Upsert(LocalModelRow model);

    /// <summary>Removes a registration; true when there was one.</summary>
    bool Remove(string id);

    /// <summary>Every registration, by ID.</summary>
    IReadOnlyList<LocalModelRow> List();
}

/// <summary>A registered model folder.</summary>
public sealed record LocalModelRow(string Id, string Kind, string Path, string Digest, string Source, DateTimeOffset Added, string? Label);
