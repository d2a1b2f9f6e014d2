namespace Enclave.Core.Hosting;

/// <summary>
/// Where start-up stages tell the operator what they did (a new ledger's verifier key, what airlock recovery removed):
/// the server's start-up report, which the CLI prints on standard error.
/// </summary>
public interface IStartupNotices
{
    /// <summary>Records <paramref name="notice"/>, one line for the operator.</summary>
    void Notice(string notice);
}
