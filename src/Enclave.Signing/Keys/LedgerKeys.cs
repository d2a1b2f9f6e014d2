using Enclave.Signing.Notes;

namespace Enclave.Signing.Keys;

/// <summary>
/// The ledger's checkpoint signing keys in <c>DATA/keys/</c>: an Ed25519 note key (always) and, when enabled,
/// an ML-DSA-44 key that adds a C2SP tlog-cosignature (type 0x06) line. Private keys are files readable by the
/// owner only; the verifier keys (<c>*.vkey</c>) are public and are what an auditor needs. A missing key is a
/// <see cref="SigningException"/> (<see cref="SigningFailure.KeyMissing"/>), which the ledger reports as its own.
/// </summary>
public sealed class LedgerKeys : IDisposable
{
    public const string Ed25519KeyFile = "ledger-ed25519.key";
    public const string Ed25519VerifierFile = "ledger-ed25519.vkey";
    public const string MlDsaKeyFile = "ledger-mldsa44.key";
    public const string MlDsaVerifierFile = "ledger-mldsa44.vkey";

    private LedgerKeys(Ed25519NoteKey ed25519, MlDsa44CosignerKey? mlDsa)
    {
        Ed25519 = ed25519;
        MlDsa = mlDsa;
    }

    public Ed25519NoteKey Ed25519 { get; }

    public MlDsa44CosignerKey? MlDsa { get; }

    /// <summary>The signers in the order their lines appear: Ed25519 first, so Ed25519-only verifiers find it.</summary>
    public IReadOnlyList<INoteSigner> Signers => MlDsa is null ? [Ed25519] : [Ed25519, MlDsa];

    /// <summary>The verifier keys (vkey text) of all signers.</summary>
    public IReadOnlyList<string> VerifierKeys => MlDsa is null ? [Ed25519.VerifierKey] : [Ed25519.VerifierKey, MlDsa.VerifierKey];

    public static string KeysDirectory(string dataDirectory) => Path.Combine(dataDirectory, "keys");

    /// <summary>
    /// Creates new keys named after the log's origin (which the ledger validated as a checkpoint origin); refuses to
    /// overwrite existing ones.
    /// </summary>
    public static LedgerKeys Create(string dataDirectory, string origin, bool postQuantum, TimeProvider clock)
    {
        var dir = KeysDirectory(dataDirectory);
        Directory.CreateDirectory(dir);
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var ed = Ed25519NoteKey.Generate(origin);
        WritePrivate(Path.Combine(dir, Ed25519KeyFile), ed.FormatPrivateKey());
        File.WriteAllText(Path.Combine(dir, Ed25519VerifierFile), ed.VerifierKey + "\n");
        MlDsa44CosignerKey? ml = null;
        if (postQuantum)
        {
            ml = MlDsa44CosignerKey.Generate(origin, clock);
            WritePrivate(Path.Combine(dir, MlDsaKeyFile), ml.FormatPrivateKey());
            File.WriteAllText(Path.Combine(dir, MlDsaVerifierFile), ml.VerifierKey + "\n");
        }

        return new LedgerKeys(ed, ml);
    }

    /// <summary>Loads the keys of an initialised data directory.</summary>
    public static LedgerKeys Load(string dataDirectory, TimeProvider clock)
    {
        var dir = KeysDirectory(dataDirectory);
        var edPath = Path.Combine(dir, Ed25519KeyFile);
        if (!File.Exists(edPath))
        {
            throw new SigningException(SigningFailure.KeyMissing, $"the ledger signing key {edPath} is missing; was the data directory initialised with 'enclave ledger init'?", new FileNotFoundException(edPath));
        }

        var ed = Ed25519NoteKey.ParsePrivateKey(File.ReadAllText(edPath).Trim());
        var mlPath = Path.Combine(dir, MlDsaKeyFile);
        var ml = File.Exists(mlPath) ? MlDsa44CosignerKey.ParsePrivateKey(File.ReadAllText(mlPath).Trim(), clock) : null;
        return new LedgerKeys(ed, ml);
    }

    /// <summary>The public verifier keys of a data directory, without touching private keys.</summary>
    public static IReadOnlyList<string> LoadVerifierKeys(string dataDirectory)
    {
        var dir = KeysDirectory(dataDirectory);
        return new[] { Ed25519VerifierFile, MlDsaVerifierFile }
            .Select(f => Path.Combine(dir, f))
            .Where(File.Exists)
            .Select(p => File.ReadAllText(p).Trim())
            .ToList();
    }

    private static void WritePrivate(string path, string text)
    {
        if (File.Exists(path))
        {
            throw new IOException($"refusing to overwrite the existing key {path}");
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
        writer.Write('\n');
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Ed25519.Dispose();
        MlDsa?.Dispose();
    }
}
