namespace Enclave.Policy.Requests;

/// <summary>The routes <see cref="EnclavePolicy"/> is built over: the server's model catalog.</summary>
public interface IRouteCatalog
{
    /// <summary>Every route, in a stable order.</summary>
    IReadOnlyList<IPolicyRoute> List();
}
