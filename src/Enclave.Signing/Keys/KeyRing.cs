namespace Enclave.Signing.Keys;

/// <summary>
/// The key files available to one operation. Keys are identified by their <c>.pub.json</c> where present and
/// decrypted only when a role being signed needs them (each decryption costs 600,000 PBKDF2 rounds).
/// </summary>
public sealed class KeyRing : IDisposable
{
    private readonly List<Candidate> _candidates;
    private readonly Passphrase _passphrase;

    private KeyRing(List<Candidate> candidates, Passphrase passphrase, bool explicitlyChosen)
    {
        _candidates = candidates;
        _passphrase = passphrase;
        ExplicitlyChosen = explicitlyChosen;
    }

    /// <summary>Whether the files were named by the user (then each must be of use).</summary>
    public bool ExplicitlyChosen { get; }

    /// <summary>Every <c>*.pem</c> directly in <paramref name="keysDirectory"/> (not in <c>retired/</c>).</summary>
    public static KeyRing FromDirectory(string keysDirectory, Passphrase passphrase)
    {
        var files = Directory.Exists(keysDirectory)
            ? Directory.EnumerateFiles(keysDirectory, "*" + KeyFile.PrivateExtension).Order(StringComparer.Ordinal).ToList()
            : [];
        return new KeyRing(files.Select(f => new Candidate(f)).ToList(), passphrase, explicitlyChosen: false);
    }

    /// <summary>The named key files.</summary>
    public static KeyRing FromFiles(IEnumerable<string> files, Passphrase passphrase)
    {
        var candidates = new List<Candidate>();
        foreach (var file in files.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"key file {file} not found", file);
            }

            candidates.Add(new Candidate(file));
        }

        return new KeyRing(candidates, passphrase, explicitlyChosen: true);
    }

    /// <summary>Keys among the candidates whose ID is in <paramref name="keyIds"/>, decrypted.</summary>
    public IReadOnlyList<RepositoryKey> Signers(IReadOnlySet<string> keyIds)
    {
        var result = new List<RepositoryKey>();
        foreach (var candidate in _candidates)
        {
            if (Identify(candidate) is { } id && keyIds.Contains(id))
            {
                result.Add(Load(candidate));
            }
        }

        return result;
    }

    /// <summary>When the files were named by the user: refuses any that is authorised for none of <paramref name="keyIds"/>.</summary>
    public void RequireAllUseful(IReadOnlySet<string> keyIds, string what)
    {
        if (!ExplicitlyChosen)
        {
            return;
        }

        foreach (var candidate in _candidates)
        {
            var id = Identify(candidate)!;
            if (!keyIds.Contains(id))
            {
                throw new SigningException(SigningFailure.KeyNotAuthorised, $"key {TufKey.Short(id)} ({candidate.Path}) is not authorised to sign {what}; nothing was written");
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var candidate in _candidates)
        {
            candidate.Key?.Dispose();
        }
    }

    private string? Identify(Candidate candidate)
    {
        if (candidate.KeyId is null)
        {
            candidate.KeyId = KeyFile.ReadPublicKeyId(candidate.Path) ?? Load(candidate).KeyId;
        }

        return candidate.KeyId;
    }

    private RepositoryKey Load(Candidate candidate)
    {
        if (candidate.Key is null)
        {
            candidate.Key = KeyFile.Read(candidate.Path, _passphrase);
            candidate.KeyId = candidate.Key.KeyId;
        }

        return candidate.Key;
    }

    private sealed class Candidate(string path)
    {
        public string Path { get; } = path;

        public string? KeyId { get; set; }

        public RepositoryKey? Key { get; set; }
    }
}
