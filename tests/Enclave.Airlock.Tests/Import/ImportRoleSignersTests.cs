using System.Text;
using Enclave.Airlock.Import;
using Enclave.Airlock.Tests.Tuf;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Import;

/// <summary>
/// An import records every TUF role that verified it (root, timestamp, snapshot, targets and the delegated role that
/// lists its files) with the version trusted, the threshold, and exactly the keys whose signatures the verifier
/// counted: not a key the role does not authorise, not a signature that does not verify, and never another role's keys.
/// </summary>
public sealed class ImportRoleSignersTests
{
    private static string[] Ids(params TestKey[] keys) => [.. keys.Select(k => k.KeyId).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Import_RecordsEachRolesVerifiedSigners_TwoOfThreeOnTheDelegatedRole_WithoutBadOrUnauthorisedSignatures()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var repo = context.Repo;
        var model = repo.Kind("model");
        model.Keys = [TestKey.Ed25519(), TestKey.Ed25519(), TestKey.Ecdsa()];
        model.Threshold = 2;
        repo.Publish();
        // model.json carries valid signatures by its first and third keys, the second key's ID over a signature made by
        // another key (bad), and a valid signature by a key the role does not authorise. The snapshot lists no hashes.
        var outsider = TestKey.Ed25519();
        var signed = repo.KindSigned("model");
        var body = TufJson.Canonicalize(signed);
        Dictionary<string, object?> Signature(TestKey named, TestKey by) => new() { ["keyid"] = named.KeyId, ["sig"] = Convert.ToHexStringLower(by.SignRaw(body)) };
        repo.Files["model.json"] = TestJson.Serialize(new Dictionary<string, object?>
        {
            ["signed"] = signed,
            ["signatures"] = new List<object?> { Signature(model.Keys[0], model.Keys[0]), Signature(model.Keys[1], outsider), Signature(outsider, outsider), Signature(model.Keys[2], model.Keys[2]) },
        });

        var imported = await context.ImportAsync(context.DemoBundle());

        var expected = new[]
        {
            ("root", 1, 1, Ids([.. repo.Keys["root"]])),
            ("timestamp", 1, 1, Ids([.. repo.Keys["timestamp"]])),
            ("snapshot", 1, 1, Ids([.. repo.Keys["snapshot"]])),
            ("targets", 1, 1, Ids([.. repo.Keys["targets"]])),
            ("model", 1, 2, Ids(model.Keys[0], model.Keys[2])),
        };
        Assert.Equal(expected.Select(Describe), imported.RoleSigners!.Select(Describe));
        Assert.Equal(Ids(model.Keys[0], model.Keys[2]), imported.SignerKeyIds);
        var all = imported.RoleSigners!.SelectMany(r => r.KeyIds).ToList();
        Assert.DoesNotContain(outsider.KeyId, all);
        Assert.DoesNotContain(model.Keys[1].KeyId, all);

        // Stored with the import: read back the same, and so once activated.
        Assert.Equal(expected.Select(Describe), context.Importer.Get(imported.Id)!.RoleSigners!.Select(Describe));
        await context.Importer.ApproveAsync(imported.Id, "user:bob");
        var activated = await context.Importer.ApproveAsync(imported.Id, "user:carol");
        Assert.Equal(ImportState.Activated, activated.State);
        Assert.Equal(expected.Select(Describe), activated.RoleSigners!.Select(Describe));
    }

    [Fact]
    public async Task SecondImport_FromTheSameRelease_ListsOnlyItsOwnDelegatedRole_AndNoRolesSignersLeakIntoAnother()
    {
        await using var context = await ImportTestContext.CreateAsync();
        var repo = context.Repo;
        // Two kinds, each delegated to its own keys; every top-level role to a different key too.
        repo.Kind("model").Keys = [TestKey.Ed25519(), TestKey.Ed25519()];
        repo.Kind("model").Threshold = 2;
        repo.AddArtifact("dataset", "notes", "1.0", new Dictionary<string, byte[]> { ["notes.txt"] = Encoding.UTF8.GetBytes("notes") }, attestations: false);
        repo.Kind("dataset").Keys = [TestKey.Ecdsa()];
        repo.Publish();

        var first = await context.ImportAsync(context.DemoBundle());
        var second = await context.ImportAsync(repo.Bundle("dataset", "notes", "1.0"));

        // The second import reuses the timestamp, snapshot and targets it already trusted: their signers are those the
        // verifier recorded when it trusted them, the same as the first import's.
        Assert.Equal(first.RoleSigners!.Take(4).Select(Describe), second.RoleSigners!.Take(4).Select(Describe));
        Assert.Equal(["root", "timestamp", "snapshot", "targets", "dataset"], second.RoleSigners!.Select(r => r.Role));
        Assert.Equal(Ids([.. repo.Kind("dataset").Keys]), second.RoleSigners![^1].KeyIds);
        Assert.Equal(Ids([.. repo.Kind("model").Keys]), first.RoleSigners![^1].KeyIds);
        Assert.Equal(Ids([.. repo.Kind("dataset").Keys]), second.SignerKeyIds);

        // Each role's signers are its own keys and no other role's.
        foreach (var import in new[] { first, second })
        {
            foreach (var role in import.RoleSigners!)
            {
                var own = role.Role switch
                {
                    "model" or "dataset" => Ids([.. repo.Kind(role.Role).Keys]),
                    _ => Ids([.. repo.Keys[role.Role]]),
                };
                Assert.Equal(own, role.KeyIds);
            }

            Assert.Equal(import.RoleSigners!.Sum(r => r.KeyIds.Count), import.RoleSigners!.SelectMany(r => r.KeyIds).Distinct(StringComparer.Ordinal).Count());
        }
    }

    private static string Describe((string Role, int Version, int Threshold, string[] KeyIds) role) =>
        $"{role.Role} v{role.Version} threshold {role.Threshold}: {string.Join(",", role.KeyIds)}";

    private static string Describe(ImportRoleSigners role) =>
        $"{role.Role} v{role.Version} threshold {role.Threshold}: {string.Join(",", role.KeyIds)}";
}
