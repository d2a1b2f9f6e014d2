using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Enclave.Policy.Labels;
using Enclave.State;
using Enclave.State.Changes;
using Enclave.State.Principals;

namespace Enclave.Policy.Identity;

/// <summary>
/// The enclave's principals (users and service accounts: roles, clearance, disabled flag) and their API keys, in the
/// data directory's <c>enclave.db</c>.
/// </summary>
/// <remarks>
/// <para>
/// An API key is 256 random bits behind a visible prefix ID (<c>ek_&lt;12 hex id&gt;_&lt;43 base64url&gt;</c>). Only the
/// SHA-256 of the secret is stored (the secret has full entropy, so a slow hash adds nothing); the presented hash is
/// compared in constant time. The key text is returned once, at creation.
/// </para>
/// <para>
/// Validation is served from memory: every principal and key is loaded when the store opens, and every change made
/// through this store updates memory as it commits, so a revoked key or a disabled principal is refused from the
/// next request on; expiry is checked against the clock on every request. Replicas sharing a PostgreSQL database learn
/// of each other's changes through <see cref="StateChanges"/> and <see cref="Reload"/>. A key ID not in memory is looked up in the database once (a key created by a start-up tool after the store
/// opened), so a request with an unknown ID costs one indexed SQLite read.
/// </para>
/// <para>
/// Changes are serialised. Each takes a <c>record</c> callback that runs after the change is validated and before it is
/// written: the admin API appends the ledger entry there, so a change is never made without its entry, and a
/// failed append leaves everything as it was.
/// </para>
/// <para>
/// Keys created by an earlier version belonged to a role, not a principal. Opening the store attaches each to the
/// principal of its role: <c>admin</c> keys to the user <c>admin</c> (role admin), a key of another known role R to the user
/// R holding role R, a key of an unknown role to the user <c>legacy-&lt;role&gt;</c> with no role.
/// </para>
/// </remarks>
public sealed class ApiKeyStore : IPrincipalDirectory
{
    /// <summary>The visible prefix of every API key.</summary>
    public const string Prefix = "ek_";

    /// <summary>Length of a key's hexadecimal ID.</summary>
    public const int IdLength = 12;

    /// <summary>Length of a whole key: prefix, ID, '_', 43 base64url characters of 32 bytes.</summary>
    public const int KeyLength = 3 + IdLength + 1 + 43;

    /// <summary>Longest key name (a label such as "grafana scraper").</summary>
    public const int MaxKeyNameLength = 128;

    private readonly IPrincipalStore _store;
    private readonly TimeProvider _clock;
    private readonly LabelScheme _labels;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, KeyEntry> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, KeyEntry>.AlternateLookup<ReadOnlySpan<char>> _keysBySpan;
    private readonly ConcurrentDictionary<string, PrincipalRecord> _principals = new(StringComparer.Ordinal);

    /// <summary>
    /// Opens (creating or migrating the tables when needed) the store in <paramref name="dataDirectory"/>, or in
    /// <paramref name="state"/> when the host opened the enclave's state (a PostgreSQL database).
    /// </summary>
    public ApiKeyStore(string dataDirectory, TimeProvider clock, LabelScheme? labels = null, StateConnectionFactory? state = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _labels = labels ?? LabelScheme.Default;
        _keysBySpan = _keys.GetAlternateLookup<ReadOnlySpan<char>>();
        _store = new SqlitePrincipalStore(state ?? EnclaveState.Open(dataDirectory, clock));
        AttachLegacyKeys();
        LoadAll();
    }

    /// <summary>The label scheme clearances are checked against.</summary>
    public LabelScheme Labels => _labels;

    // ---------------------------------------------------------------- principals

    /// <inheritdoc />
    public PrincipalInfo? Find(string idOrName) => GetPrincipal(idOrName)?.ToInfo();

    /// <summary>The principal with this ID (<c>user:alice</c>, <c>service:ci</c>) or name (<c>alice</c>); null when unknown.</summary>
    public PrincipalRecord? GetPrincipal(string? idOrName)
    {
        if (idOrName is null)
        {
            return null;
        }

        if (PrincipalNames.TryParseId(idOrName, out var kind, out var name))
        {
            return _principals.TryGetValue(name, out var byId) && byId.Kind == kind ? byId : null;
        }

        return _principals.GetValueOrDefault(idOrName);
    }

    /// <summary>All principals, by name.</summary>
    public IReadOnlyList<PrincipalRecord> ListPrincipals() => [.. _principals.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];

    /// <summary>
    /// Adds a principal. Roles must be from <see cref="Roles.All"/>; the clearance, when given, a marking of the label
    /// scheme (stored in its canonical banner form).
    /// </summary>
    /// <exception cref="IdentityException">The name, a role or the clearance is invalid, or the name is taken.</exception>
    public async Task<PrincipalRecord> AddPrincipalAsync(
        string name, PrincipalKind kind, IEnumerable<string> roles, string? clearance, Func<PrincipalRecord, ValueTask>? record = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(roles);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var principal = PreparePrincipal(name, kind, roles, clearance);
            if (record is not null)
            {
                await record(principal).ConfigureAwait(false);
            }

            InsertPrincipal(principal);
            return principal;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Disables a principal: from now on its keys and its single sign-on tokens are refused.</summary>
    /// <exception cref="IdentityException">No such principal, it is already disabled, or it is the last enabled admin.</exception>
    public async Task<PrincipalRecord> DisablePrincipalAsync(string idOrName, Func<PrincipalRecord, ValueTask>? record = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = GetPrincipal(idOrName) ?? throw new IdentityException(IdentityError.NotFound, $"there is no user or service account '{Shorten(idOrName)}'");
            if (current.Disabled is not null)
            {
                throw new IdentityException(IdentityError.Conflict, $"'{current.Name}' is already disabled (since {current.Disabled:O})");
            }

            if (current.Roles.Contains(Roles.Admin) && !_principals.Values.Any(p => p.Name != current.Name && p.Disabled is null && p.Roles.Contains(Roles.Admin)))
            {
                throw new IdentityException(IdentityError.Conflict, $"'{current.Name}' is the last enabled admin; add another admin before disabling it");
            }

            var disabled = current with { Disabled = _clock.GetUtcNow() };
            if (record is not null)
            {
                await record(disabled).ConfigureAwait(false);
            }

            _store.DisablePrincipal(current.Id, disabled.Disabled!.Value);

            _principals[current.Name] = disabled;
            return disabled;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Changes a principal's roles and/or clearance (null: unchanged; an empty clearance: the lowest level). Takes
    /// effect from the next request.
    /// </summary>
    /// <exception cref="IdentityException">No such principal, a role or the clearance is invalid, nothing would change, or it would remove the last enabled admin.</exception>
    public async Task<(PrincipalRecord Before, PrincipalRecord After)> UpdatePrincipalAsync(
        string idOrName, IEnumerable<string>? roles, string? clearance, Func<PrincipalRecord, PrincipalRecord, ValueTask>? record = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var current = GetPrincipal(idOrName) ?? throw new IdentityException(IdentityError.NotFound, $"there is no user or service account '{Shorten(idOrName)}'");
            var (newRoles, newClearance) = ValidateRolesAndClearance(roles ?? current.Roles, clearance is null ? current.Clearance : clearance.Length == 0 ? null : clearance);
            var updated = current with { Roles = newRoles, Clearance = newClearance };
            if (updated.Roles.SequenceEqual(current.Roles) && updated.Clearance == current.Clearance)
            {
                throw new IdentityException(IdentityError.Invalid, $"'{current.Name}' already has roles [{string.Join(", ", current.Roles)}] and clearance {current.Clearance ?? "(lowest)"}");
            }

            if (current.Disabled is null && current.Roles.Contains(Roles.Admin) && !updated.Roles.Contains(Roles.Admin)
                && !_principals.Values.Any(p => p.Name != current.Name && p.Disabled is null && p.Roles.Contains(Roles.Admin)))
            {
                throw new IdentityException(IdentityError.Conflict, $"'{current.Name}' is the last enabled admin; add another admin before removing its admin role");
            }

            if (record is not null)
            {
                await record(current, updated).ConfigureAwait(false);
            }

            _store.UpdatePrincipal(current.Id, string.Join(' ', updated.Roles), updated.Clearance);
            _principals[current.Name] = updated;
            return (current, updated);
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---------------------------------------------------------------- keys

    /// <summary>
    /// Creates an API key for a principal and returns its full text (shown once) with its record.
    /// </summary>
    /// <exception cref="IdentityException">No such principal, it is disabled, the expiry is not in the future, or the name is too long.</exception>
    public async Task<(string Key, ApiKeyRecord Record)> CreateKeyAsync(
        string principal, string? name, DateTimeOffset? expires, Func<ApiKeyRecord, ValueTask>? record = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var owner = GetPrincipal(principal) ?? throw new IdentityException(IdentityError.NotFound, $"there is no user or service account '{Shorten(principal)}'");
            return await CreateKeyLockedAsync(owner, name, expires, record).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Revokes a key (by its ID, with or without the <c>ek_</c> prefix): it is refused from the next request on.</summary>
    /// <exception cref="IdentityException">No such key, or it is already revoked.</exception>
    public async Task<ApiKeyRecord> RevokeKeyAsync(string id, Func<ApiKeyRecord, ValueTask>? record = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var normalized = NormalizeId(id);
            if (normalized is null || Lookup(normalized) is not { } entry)
            {
                throw new IdentityException(IdentityError.NotFound, $"there is no API key with ID '{Shorten(id)}' (an ID is 12 hexadecimal digits, optionally after 'ek_')");
            }

            if (entry.Record.Revoked is not null)
            {
                throw new IdentityException(IdentityError.Conflict, $"API key {normalized} is already revoked (since {entry.Record.Revoked:O})");
            }

            var revoked = entry.Record with { Revoked = _clock.GetUtcNow() };
            if (record is not null)
            {
                await record(revoked).ConfigureAwait(false);
            }

            _store.RevokeKey(normalized, revoked.Revoked!.Value);

            _keys[normalized] = entry with { Record = revoked };
            return revoked;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The key with this ID (with or without <c>ek_</c>), revoked or not; null when unknown.</summary>
    public ApiKeyRecord? GetKey(string id) => NormalizeId(id) is { } normalized ? Lookup(normalized)?.Record : null;

    /// <summary>All keys, or those of one principal (by ID), newest first; revoked and expired ones included.</summary>
    public IReadOnlyList<ApiKeyRecord> ListKeys(string? principalId = null) =>
    [
        .. _keys.Values.Select(k => k.Record)
            .Where(r => principalId is null || r.PrincipalId == principalId)
            .OrderByDescending(r => r.Created).ThenBy(r => r.Id, StringComparer.Ordinal),
    ];

    /// <summary>
    /// Checks a presented key: well-formed, known, secret hash equal (constant time), not revoked, not expired, its
    /// principal enabled. Served from memory; never throws for bad input.
    /// </summary>
    public bool TryValidate(ReadOnlySpan<char> presented, out ValidatedKey key, out KeyRejection rejection)
    {
        key = default;
        if (!TryParse(presented, out var id, out var hash))
        {
            rejection = KeyRejection.Malformed;
            return false;
        }

        var entry = _keysBySpan.TryGetValue(id, out var cached) ? cached : LoadKey(id.ToString());
        if (entry is null)
        {
            rejection = KeyRejection.UnknownKey;
            return false;
        }

        if (!CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
        {
            rejection = KeyRejection.WrongSecret;
            return false;
        }

        if (entry.Record.Revoked is not null)
        {
            rejection = KeyRejection.Revoked;
            return false;
        }

        if (entry.Record.Expires is { } expires && expires <= _clock.GetUtcNow())
        {
            rejection = KeyRejection.Expired;
            return false;
        }

        if (GetPrincipal(entry.Record.PrincipalId) is not { } principal)
        {
            rejection = KeyRejection.UnknownKey;
            return false;
        }

        if (principal.Disabled is not null)
        {
            rejection = KeyRejection.PrincipalDisabled;
            return false;
        }

        key = new ValidatedKey(entry.Record, principal);
        rejection = KeyRejection.None;
        return true;
    }

    /// <summary>The record of a presented key when it is valid, active, unexpired and its principal enabled; otherwise null.</summary>
    public ApiKeyRecord? Validate(string presented) =>
        presented is not null && TryValidate(presented, out var key, out _) ? key.Key : null;

    /// <summary>
    /// The 12-hex key ID of a presented key when it has the shape of an Enclave key (for the audit record of a failed
    /// attempt; the ID is not secret); otherwise null.
    /// </summary>
    public static string? PresentedKeyId(ReadOnlySpan<char> presented) =>
        presented.Length == KeyLength && presented.StartsWith(Prefix, StringComparison.Ordinal) && IsHexId(presented.Slice(Prefix.Length, IdLength))
            ? presented.Slice(Prefix.Length, IdLength).ToString()
            : null;

    /// <summary>Number of keys that are neither revoked nor expired and whose principal is enabled.</summary>
    public int CountActive()
    {
        var now = _clock.GetUtcNow();
        return _keys.Values.Count(k => k.Record.Revoked is null && (k.Record.Expires is null || k.Record.Expires > now) && GetPrincipal(k.Record.PrincipalId) is { Disabled: null });
    }

    /// <summary>Whether an enabled principal holding <see cref="Roles.Admin"/> has a key that is neither revoked nor expired.</summary>
    public bool HasUsableAdminKey()
    {
        var now = _clock.GetUtcNow();
        return _keys.Values.Any(k => k.Record.Revoked is null && (k.Record.Expires is null || k.Record.Expires > now)
            && GetPrincipal(k.Record.PrincipalId) is { Disabled: null } p && p.Roles.Contains(Roles.Admin));
    }

    /// <summary>
    /// Creates a key for the principal that stands for <paramref name="role"/> (for <c>admin</c> the user <c>admin</c>),
    /// adding that principal when missing, and names the key <paramref name="name"/>. The form keys had before they
    /// belonged to principals; start-up tools, tests and benchmarks use it.
    /// </summary>
    public (string Key, ApiKeyRecord Record) Create(string name, string role, DateTimeOffset? expires = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        _gate.Wait();
        try
        {
            var owner = EnsureRolePrincipal(role);
            return CreateKeyLockedAsync(owner, name, expires, record: null).AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---------------------------------------------------------------- internals

    private async ValueTask<(string Key, ApiKeyRecord Record)> CreateKeyLockedAsync(PrincipalRecord owner, string? name, DateTimeOffset? expires, Func<ApiKeyRecord, ValueTask>? record)
    {
        if (owner.Disabled is not null)
        {
            throw new IdentityException(IdentityError.Conflict, $"'{owner.Name}' is disabled; a disabled principal gets no new keys");
        }

        name = string.IsNullOrWhiteSpace(name) ? "key of " + owner.Name : name.Trim();
        if (name.Length > MaxKeyNameLength || name.Any(char.IsControl))
        {
            throw new IdentityException(IdentityError.Invalid, $"a key name is at most {MaxKeyNameLength} characters without control characters");
        }

        var now = _clock.GetUtcNow();
        if (expires is { } e && e <= now)
        {
            throw new IdentityException(IdentityError.Invalid, $"the expiry {e:O} is not in the future");
        }

        string id;
        do
        {
            id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        }
        while (Lookup(id) is not null);

        var secret = RandomNumberGenerator.GetBytes(32);
        try
        {
            var created = new ApiKeyRecord { Id = id, Name = name, PrincipalId = owner.Id, Created = now, Expires = expires };
            if (record is not null)
            {
                await record(created).ConfigureAwait(false);
            }

            var hash = SHA256.HashData(secret);
            _store.AddKey(new ApiKeyRow(id, hash, name, owner.Id, now, expires, null));

            _keys[id] = new KeyEntry(created, hash);
            return ($"{Prefix}{id}_{Base64Url(secret)}", created);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    private PrincipalRecord PreparePrincipal(string name, PrincipalKind kind, IEnumerable<string> roles, string? clearance)
    {
        var problems = new List<string>();
        if (!PrincipalNames.IsValid(name))
        {
            problems.Add($"'{Shorten(name)}' is not a valid name: 1 to {PrincipalNames.MaxLength} lower-case letters, digits, '.', '_', '-', '@', starting with a letter or digit");
        }
        else if (_principals.ContainsKey(name))
        {
            throw new IdentityException(IdentityError.Conflict, $"'{name}' already exists");
        }

        var (validRoles, canonicalClearance) = ValidateRolesAndClearance(roles, clearance, problems);
        if (problems.Count > 0)
        {
            throw new IdentityException(IdentityError.Invalid, string.Join("; ", problems));
        }

        return new PrincipalRecord
        {
            Name = name,
            Kind = kind,
            Roles = validRoles,
            Clearance = canonicalClearance,
            Created = _clock.GetUtcNow(),
        };
    }

    private (IReadOnlyList<string> Roles, string? Clearance) ValidateRolesAndClearance(IEnumerable<string> roles, string? clearance)
    {
        var problems = new List<string>();
        var result = ValidateRolesAndClearance(roles, clearance, problems);
        return problems.Count > 0 ? throw new IdentityException(IdentityError.Invalid, string.Join("; ", problems)) : result;
    }

    private (IReadOnlyList<string> Roles, string? Clearance) ValidateRolesAndClearance(IEnumerable<string> roles, string? clearance, List<string> problems)
    {
        var roleSet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in roles)
        {
            if (!Roles.IsKnown(role))
            {
                problems.Add($"unknown role '{Shorten(role)}' (roles: {string.Join(", ", Roles.All)})");
            }

            roleSet.Add(role);
        }

        string? canonicalClearance = null;
        if (clearance is not null)
        {
            var error = _labels.TryParse(clearance, portion: false, out var label, out var message);
            if (error != MarkingError.None)
            {
                problems.Add($"clearance '{Shorten(clearance)}' is not a valid marking: {message}");
            }
            else
            {
                canonicalClearance = _labels.FormatBanner(label);
            }
        }

        return ([.. Roles.All.Where(roleSet.Contains)], canonicalClearance);
    }

    private void InsertPrincipal(PrincipalRecord principal)
    {
        _store.AddPrincipal(new PrincipalRow(
            principal.Id, principal.Name, PrincipalNames.KindName(principal.Kind), string.Join(' ', principal.Roles), principal.Clearance, principal.Created, null));

        _principals[principal.Name] = principal;
    }

    private PrincipalRecord EnsureRolePrincipal(string role)
    {
        var name = RolePrincipalName(role);
        if (_principals.TryGetValue(name, out var existing))
        {
            return existing;
        }

        var principal = PreparePrincipal(name, PrincipalKind.User, Roles.IsKnown(role) ? [role] : [], clearance: null);
        InsertPrincipal(principal);
        return principal;
    }

    /// <summary>The principal name a pre-principal key of <paramref name="role"/> belongs to.</summary>
    internal static string RolePrincipalName(string role)
    {
        if (Roles.IsKnown(role))
        {
            return role;
        }

        var cleaned = new string([.. role.ToLowerInvariant().Select(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '-')]).Trim('-');
        var name = cleaned.Length == 0 ? "legacy" : "legacy-" + cleaned;
        return name.Length <= PrincipalNames.MaxLength ? name : name[..PrincipalNames.MaxLength].TrimEnd('-');
    }

    private KeyEntry? Lookup(string id) => _keys.TryGetValue(id, out var entry) ? entry : LoadKey(id);

    private KeyEntry? LoadKey(string id)
    {
        if (_store.FindKey(id) is not var (keyRow, principalRow))
        {
            return null;
        }

        var principal = ToPrincipal(principalRow);
        _principals.TryAdd(principal.Name, principal);
        var entry = ToKey(keyRow);
        return _keys.GetOrAdd(entry.Record.Id, entry);
    }

    /// <summary>
    /// Replaces what is in memory with every principal and key in the database: another replica changed them (the
    /// composition root subscribes this to <see cref="StateChanges"/>, topic <see cref="StateTopics.Principals"/>). A key
    /// revoked or a principal disabled there is refused here from the next request on. Waits for a change in progress.
    /// </summary>
    public void Reload()
    {
        _gate.Wait();
        try
        {
            var principals = _store.ListPrincipals().Select(ToPrincipal).ToDictionary(p => p.Name, StringComparer.Ordinal);
            var keys = _store.ListKeys().Select(ToKey).ToDictionary(k => k.Record.Id, StringComparer.Ordinal);
            foreach (var (name, principal) in principals)
            {
                _principals[name] = principal;
            }

            foreach (var name in _principals.Keys.Where(n => !principals.ContainsKey(n)))
            {
                _principals.TryRemove(name, out _);
            }

            foreach (var (id, key) in keys)
            {
                _keys[id] = key;
            }

            foreach (var id in _keys.Keys.Where(i => !keys.ContainsKey(i)))
            {
                _keys.TryRemove(id, out _);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private void LoadAll()
    {
        foreach (var row in _store.ListPrincipals())
        {
            var principal = ToPrincipal(row);
            _principals[principal.Name] = principal;
        }

        foreach (var row in _store.ListKeys())
        {
            var entry = ToKey(row);
            _keys[entry.Record.Id] = entry;
        }
    }

    private static KeyEntry ToKey(ApiKeyRow row) => new(
        new ApiKeyRecord
        {
            Id = row.Id,
            Name = row.Name,
            PrincipalId = row.PrincipalId,
            Created = row.Created,
            Expires = row.Expires,
            Revoked = row.Revoked,
        },
        row.SecretHash);

    private static PrincipalRecord ToPrincipal(PrincipalRow row)
    {
        if (!PrincipalNames.TryParseKind(row.Kind, out var kind))
        {
            throw new InvalidDataException($"principal '{row.Name}' in enclave.db has an unknown kind '{row.Kind}'");
        }

        var roles = row.Roles.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new PrincipalRecord
        {
            Name = row.Name,
            Kind = kind,
            // A role this version does not know grants nothing.
            Roles = [.. Roles.All.Where(roles.Contains)],
            Clearance = row.Clearance,
            Created = row.Created,
            Disabled = row.Disabled,
        };
    }

    /// <summary>Keys from before principals existed: attach each to its role's principal.</summary>
    private void AttachLegacyKeys()
    {
        var now = _clock.GetUtcNow();
        _store.AttachUnownedKeys(role =>
        {
            var name = RolePrincipalName(role);
            return new PrincipalRow(PrincipalNames.IdOf(PrincipalKind.User, name), name, "user", Roles.IsKnown(role) ? role : string.Empty, null, now, null);
        });
    }

    private static bool TryParse(ReadOnlySpan<char> presented, out ReadOnlySpan<char> id, out byte[] hash)
    {
        id = default;
        hash = [];
        if (presented.Length != KeyLength || !presented.StartsWith(Prefix, StringComparison.Ordinal) || presented[Prefix.Length + IdLength] != '_')
        {
            return false;
        }

        id = presented.Slice(Prefix.Length, IdLength);
        if (!IsHexId(id))
        {
            return false;
        }

        // 43 characters carry 258 bits: the last one's two low bits must be zero, so each key has exactly one text.
        var last = presented[^1];
        var lastValue = last switch
        {
            >= 'A' and <= 'Z' => last - 'A',
            >= 'a' and <= 'z' => last - 'a' + 26,
            >= '0' and <= '9' => last - '0' + 52,
            '-' => 62,
            '_' => 63,
            _ => -1,
        };
        if (lastValue < 0 || (lastValue & 3) != 0)
        {
            return false;
        }

        Span<byte> secret = stackalloc byte[33];
        if (!TryFromBase64Url(presented[(Prefix.Length + IdLength + 1)..], secret, out var written) || written != 32)
        {
            CryptographicOperations.ZeroMemory(secret);
            return false;
        }

        hash = SHA256.HashData(secret[..32]);
        CryptographicOperations.ZeroMemory(secret);
        return true;
    }

    private static bool IsHexId(ReadOnlySpan<char> id)
    {
        foreach (var c in id)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A key ID from user input: 12 lower-case hex digits, optionally after <c>ek_</c>; null otherwise.</summary>
    internal static string? NormalizeId(string? id)
    {
        if (id is null)
        {
            return null;
        }

        var text = id.Trim();
        if (text.StartsWith(Prefix, StringComparison.Ordinal))
        {
            text = text[Prefix.Length..];
        }

        return text.Length == IdLength && IsHexId(text) ? text : null;
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryFromBase64Url(ReadOnlySpan<char> text, Span<byte> output, out int written)
    {
        Span<char> padded = stackalloc char[48];
        var length = text.Length;
        if (length > 44)
        {
            written = 0;
            return false;
        }

        for (var i = 0; i < length; i++)
        {
            padded[i] = text[i] switch { '-' => '+', '_' => '/', '+' or '/' or '=' => '!', var c => c };
        }

        while (length % 4 != 0)
        {
            padded[length++] = '=';
        }

        return Convert.TryFromBase64Chars(padded[..length], output, out written);
    }

    private static string Shorten(string? text) => text is null ? "(none)" : text.Length <= 64 ? text : text[..64] + "…";

    private sealed record KeyEntry(ApiKeyRecord Record, byte[] Hash);
}
