using System.Globalization;
using Enclave.Signing.Keys;

namespace Enclave.Airlock.Tuf;

/// <summary>Parses untrusted metadata bytes into the model. Checks schema only; signatures are checked by <see cref="TufSignatureVerifier"/>.</summary>
internal static class TufMetadataParser
{
    private static readonly HashSet<string> TopLevelRoles = new(StringComparer.Ordinal) { "root", "timestamp", "snapshot", "targets" };

    public static RootMetadata ParseRoot(byte[] bytes, TufUpdaterOptions options)
    {
        var (common, signed) = ParseCommon(bytes, "root", "root", options.MaxRootBytes, options);
        var keys = ParseKeys(TufFields.Required(signed, "keys", "root"), "root.keys", options);
        var rolesObj = TufFields.Object(TufFields.Required(signed, "roles", "root"), "root.roles");
        var roles = new Dictionary<string, TufRole>(StringComparer.Ordinal);
        foreach (var name in TopLevelRoles)
        {
            var where = $"root.roles.{name}";
            if (!rolesObj.TryGetValue(name, out var roleValue))
            {
                throw TufFields.Bad($"root.roles has no \"{name}\" role");
            }

            roles[name] = ParseRole(TufFields.Object(roleValue, where), keys, where);
        }

        return new RootMetadata
        {
            Type = common.Type, RoleName = common.RoleName, SpecVersion = common.SpecVersion, Version = common.Version,
            Expires = common.Expires, Signatures = common.Signatures, Bytes = common.Bytes,
            CanonicalSigned = common.CanonicalSigned, RawSigned = common.RawSigned, Signed = signed,
            Keys = keys,
            Roles = roles,
            ConsistentSnapshot = TufFields.Boolean(signed, "consistent_snapshot", "root", fallback: false),
        };
    }

    public static TimestampMetadata ParseTimestamp(byte[] bytes, TufUpdaterOptions options)
    {
        var (common, signed) = ParseCommon(bytes, "timestamp", "timestamp", options.MaxTimestampBytes, options);
        var meta = TufFields.Object(TufFields.Required(signed, "meta", "timestamp"), "timestamp.meta");
        if (!meta.TryGetValue("snapshot.json", out var snapshotMeta))
        {
            throw TufFields.Bad("timestamp.meta has no \"snapshot.json\"");
        }

        return new TimestampMetadata
        {
            Type = common.Type, RoleName = common.RoleName, SpecVersion = common.SpecVersion, Version = common.Version,
            Expires = common.Expires, Signatures = common.Signatures, Bytes = common.Bytes,
            CanonicalSigned = common.CanonicalSigned, RawSigned = common.RawSigned, Signed = signed,
            SnapshotMeta = ParseMetaFile(snapshotMeta, "timestamp.meta[\"snapshot.json\"]"),
        };
    }

    public static SnapshotMetadata ParseSnapshot(byte[] bytes, long maxBytes, TufUpdaterOptions options)
    {
        var (common, signed) = ParseCommon(bytes, "snapshot", "snapshot", maxBytes, options);
        var metaObj = TufFields.Object(TufFields.Required(signed, "meta", "snapshot"), "snapshot.meta");
        if (metaObj.Count > options.MaxEntries)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: snapshot.meta has {metaObj.Count} entries, more than the limit of {options.MaxEntries}");
        }

        var meta = new Dictionary<string, MetaFile>(StringComparer.Ordinal);
        foreach (var (name, value) in metaObj)
        {
            meta[name] = ParseMetaFile(value, $"snapshot.meta[\"{name}\"]");
        }

        return new SnapshotMetadata
        {
            Type = common.Type, RoleName = common.RoleName, SpecVersion = common.SpecVersion, Version = common.Version,
            Expires = common.Expires, Signatures = common.Signatures, Bytes = common.Bytes,
            CanonicalSigned = common.CanonicalSigned, RawSigned = common.RawSigned, Signed = signed,
            Meta = meta,
        };
    }

    public static TargetsMetadata ParseTargets(byte[] bytes, string roleName, long maxBytes, TufUpdaterOptions options)
    {
        var (common, signed) = ParseCommon(bytes, "targets", roleName, maxBytes, options);
        var targetsObj = TufFields.Object(TufFields.Required(signed, "targets", roleName), $"{roleName}.targets");
        if (targetsObj.Count > options.MaxEntries)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: {roleName}.targets has {targetsObj.Count} entries, more than the limit of {options.MaxEntries}");
        }

        var targets = new Dictionary<string, TargetFile>(StringComparer.Ordinal);
        foreach (var (path, value) in targetsObj)
        {
            var where = $"{roleName}.targets[\"{path}\"]";
            var obj = TufFields.Object(value, where);
            var length = TufFields.Integer(obj, "length", where);
            if (length < 0)
            {
                throw TufFields.Bad($"{where}.length is negative");
            }

            var hashes = ParseHashes(TufFields.Required(obj, "hashes", where), where + ".hashes");
            string? custom = null;
            if (obj.TryGetValue("custom", out var customValue))
            {
                custom = System.Text.Encoding.UTF8.GetString(TufJson.Canonicalize(customValue));
            }

            targets[path] = new TargetFile { Path = path, Length = length, Hashes = hashes, CustomJson = custom, Role = roleName };
        }

        Delegations? delegations = null;
        if (signed.TryGetValue("delegations", out var delegationsValue))
        {
            delegations = ParseDelegations(TufFields.Object(delegationsValue, $"{roleName}.delegations"), $"{roleName}.delegations", options);
        }

        return new TargetsMetadata
        {
            Type = common.Type, RoleName = common.RoleName, SpecVersion = common.SpecVersion, Version = common.Version,
            Expires = common.Expires, Signatures = common.Signatures, Bytes = common.Bytes,
            CanonicalSigned = common.CanonicalSigned, RawSigned = common.RawSigned, Signed = signed,
            Targets = targets,
            Delegations = delegations,
        };
    }

    private static Delegations ParseDelegations(Dictionary<string, object?> obj, string where, TufUpdaterOptions options)
    {
        var keys = ParseKeys(TufFields.Required(obj, "keys", where), where + ".keys", options);
        var rolesList = TufFields.Array(TufFields.Required(obj, "roles", where), where + ".roles");
        if (rolesList.Count > options.MaxDelegations)
        {
            throw new AirlockRejectedException(AirlockRejection.LimitExceeded, $"delegation limit: {where} delegates to {rolesList.Count} roles, more than the limit of {options.MaxDelegations}");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var roles = new List<DelegatedRole>(rolesList.Count);
        for (var i = 0; i < rolesList.Count; i++)
        {
            var roleWhere = $"{where}.roles[{i}]";
            var roleObj = TufFields.Object(rolesList[i], roleWhere);
            var name = TufFields.String(roleObj, "name", roleWhere);
            if (TopLevelRoles.Contains(name) || name.Length == 0 || !names.Add(name))
            {
                throw new AirlockRejectedException(AirlockRejection.DelegationViolation, $"delegation violation: {roleWhere} has name \"{name}\", which is empty, a top-level role name or a duplicate");
            }

            var hasPaths = roleObj.TryGetValue("paths", out var pathsValue);
            var hasPrefixes = roleObj.TryGetValue("path_hash_prefixes", out var prefixesValue);
            if (hasPaths && hasPrefixes)
            {
                throw TufFields.Bad($"{roleWhere} has both \"paths\" and \"path_hash_prefixes\"");
            }

            roles.Add(new DelegatedRole
            {
                Name = name,
                Role = ParseRole(roleObj, keys, roleWhere),
                Terminating = TufFields.Boolean(roleObj, "terminating", roleWhere),
                Paths = hasPaths ? StringList(pathsValue, roleWhere + ".paths") : null,
                PathHashPrefixes = hasPrefixes ? StringList(prefixesValue, roleWhere + ".path_hash_prefixes") : null,
            });
        }

        return new Delegations { Keys = keys, Roles = roles };
    }

    private static List<string> StringList(object? value, string where)
    {
        var list = TufFields.Array(value, where);
        var result = new List<string>(list.Count);
        foreach (var item in list)
        {
            result.Add(item as string ?? throw TufFields.Bad($"{where} holds a non-string"));
        }

        return result;
    }

    private static Dictionary<string, TufKey> ParseKeys(object? value, string where, TufUpdaterOptions options)
    {
        var obj = TufFields.Object(value, where);
        if (obj.Count > options.MaxKeys)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: {where} has {obj.Count} keys, more than the limit of {options.MaxKeys}");
        }

        var keys = new Dictionary<string, TufKey>(StringComparer.Ordinal);
        foreach (var (keyId, keyValue) in obj)
        {
            try
            {
                keys[keyId] = TufKey.Parse(keyId, keyValue, options.RequireKeyIdMatchesKey, $"{where}[{TufKey.Short(keyId)}]");
            }
            catch (SigningException e)
            {
                throw TufJson.Rejected(e);
            }
        }

        return keys;
    }

    private static TufRole ParseRole(Dictionary<string, object?> obj, IReadOnlyDictionary<string, TufKey> keys, string where)
    {
        var keyIds = StringList(TufFields.Required(obj, "keyids", where), where + ".keyids");
        if (keyIds.Distinct(StringComparer.Ordinal).Count() != keyIds.Count)
        {
            throw TufFields.Bad($"{where}.keyids lists a key ID twice");
        }

        foreach (var keyId in keyIds)
        {
            if (!keys.ContainsKey(keyId))
            {
                throw TufFields.Bad($"{where}.keyids names key {TufKey.Short(keyId)}, which is not in the keys object");
            }
        }

        return new TufRole { KeyIds = keyIds, Threshold = TufFields.PositiveInt(obj, "threshold", where) };
    }

    private static MetaFile ParseMetaFile(object? value, string where)
    {
        var obj = TufFields.Object(value, where);
        long? length = null;
        if (obj.ContainsKey("length"))
        {
            length = TufFields.Integer(obj, "length", where);
            if (length < 0)
            {
                throw TufFields.Bad($"{where}.length is negative");
            }
        }

        IReadOnlyDictionary<string, string>? hashes = null;
        if (obj.TryGetValue("hashes", out var hashesValue))
        {
            hashes = ParseHashes(hashesValue, where + ".hashes");
        }

        return new MetaFile { Version = TufFields.PositiveInt(obj, "version", where), Length = length, Hashes = hashes };
    }

    private static Dictionary<string, string> ParseHashes(object? value, string where)
    {
        var obj = TufFields.Object(value, where);
        if (obj.Count == 0)
        {
            throw TufFields.Bad($"{where} is empty");
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (algorithm, hex) in obj)
        {
            hashes[algorithm] = hex as string ?? throw TufFields.Bad($"{where}.{algorithm} is not a string");
        }

        return hashes;
    }

    private static (Common Common, Dictionary<string, object?> Signed) ParseCommon(byte[] bytes, string type, string roleName, long maxBytes, TufUpdaterOptions options)
    {
        if (bytes.LongLength > maxBytes)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: {roleName} is {bytes.LongLength} bytes, more than the limit of {maxBytes}");
        }

        var document = TufFields.Object(TufJson.Parse(bytes, options.MaxJsonDepth, "signed", out var signedRange), roleName);
        var signed = TufFields.Object(TufFields.Required(document, "signed", roleName), roleName + ".signed");
        var signatureList = TufFields.Array(TufFields.Required(document, "signatures", roleName), roleName + ".signatures");
        if (signatureList.Count > options.MaxSignatures)
        {
            throw new AirlockRejectedException(AirlockRejection.Oversized, $"oversized metadata: {roleName} carries {signatureList.Count} signatures, more than the limit of {options.MaxSignatures}");
        }

        var signatures = new List<TufSignature>(signatureList.Count);
        var keyIds = new HashSet<string>(signatureList.Count, StringComparer.Ordinal);
        for (var i = 0; i < signatureList.Count; i++)
        {
            var where = $"{roleName}.signatures[{i}]";
            var sig = TufFields.Object(signatureList[i], where);
            var keyId = TufFields.String(sig, "keyid", where);
            if (!keyIds.Add(keyId))
            {
                // TUF specification, "Document formats": the KEYIDs in "signatures" are unique (python-tuf and go-tuf refuse such metadata).
                throw TufFields.Bad($"{where} repeats key ID {TufKey.Short(keyId)}; each key may sign once (key IDs in signatures must be unique)");
            }

            signatures.Add(new TufSignature(keyId, TufFields.String(sig, "sig", where)));
        }

        var actualType = TufFields.String(signed, "_type", roleName);
        if (actualType != type)
        {
            throw TufFields.Bad($"{roleName} has _type \"{actualType}\", expected \"{type}\"");
        }

        var specVersion = TufFields.String(signed, "spec_version", roleName);
        var parts = specVersion.Split('.');
        if (parts.Length is < 2 or > 3 || parts[0] != "1" || !parts.All(p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            throw TufFields.Bad($"{roleName} has spec_version \"{specVersion}\"; only 1.x is supported");
        }

        var expiresText = TufFields.String(signed, "expires", roleName);
        if (!DateTimeOffset.TryParseExact(expiresText, "yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var expires))
        {
            throw TufFields.Bad($"{roleName}.expires \"{expiresText}\" is not YYYY-MM-DDTHH:MM:SSZ");
        }

        var common = new Common(
            actualType, roleName, specVersion, TufFields.PositiveInt(signed, "version", roleName), expires, signatures, bytes,
            TufJson.Canonicalize(signed), bytes[signedRange]);
        return (common, signed);
    }

    private sealed record Common(
        string Type, string RoleName, string SpecVersion, int Version, DateTimeOffset Expires,
        IReadOnlyList<TufSignature> Signatures, byte[] Bytes, byte[] CanonicalSigned, byte[] RawSigned);
}
