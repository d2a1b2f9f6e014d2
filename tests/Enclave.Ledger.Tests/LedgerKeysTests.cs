using Enclave.Signing.Keys;

namespace Enclave.Ledger.Tests;

/// <summary>The ledger's key files live in Enclave.Signing; a missing key is still the ledger's "not found".</summary>
public sealed class LedgerKeysTests
{
    [Fact]
    public void MissingSigningKey_IsASigningFailure_ThatTheLedgerReportsAsNotFound_NamingTheFile()
    {
        using var t = new TestLedger();
        var key = Path.Combine(LedgerKeys.KeysDirectory(t.Directory), LedgerKeys.Ed25519KeyFile);
        File.Delete(key);

        var signing = Assert.Throws<SigningException>(() => LedgerKeys.Load(t.Directory, t.Clock));
        Assert.Equal(SigningFailure.KeyMissing, signing.Reason);

        var ledger = Assert.Throws<LedgerNotFoundException>(() => t.Open());
        Assert.Equal($"the ledger signing key {key} is missing; was the data directory initialised with 'enclave ledger init'?", ledger.Message);
        Assert.Equal(LedgerError.NotFound, ledger.Reason);
    }

    [Fact]
    public void CreatedKeys_LoadBack_WithTheSameVerifierKeys()
    {
        using var t = new TestLedger(postQuantum: true);
        using var keys = LedgerKeys.Load(t.Directory, t.Clock);
        Assert.Equal(t.VerifierKeys, keys.VerifierKeys);
        Assert.Equal(t.VerifierKeys, LedgerKeys.LoadVerifierKeys(t.Directory));
        Assert.Equal(2, keys.Signers.Count);
    }
}
