using System.Text;
using Enclave.Airlock.Tuf;

namespace Enclave.Airlock.Tests.Tuf;

/// <summary>
/// Known-answer vectors: root metadata produced and signed by python-tuf in a public repository
/// (github.com/jku/tuf-demo, metadata/1.root.json and 2.root.json). They check that our canonical JSON,
/// key IDs and Ed25519 verification agree with the reference implementation byte for byte.
/// </summary>
public sealed class InteropVectorTests
{
    private const string Root1 = """
{
 "signatures": [
  {
   "keyid": "475217b7216645a784ca5fddd75f1ad5c6337d9523d51590000d257a8f3e7ba7",
   "sig": "c4c8cfac97a5a0f393f7c2f079252df3212c4b372708dcaf4b932a17455e5204abd0c2561e2a27e82e859370a83e08febc7d09907398af5c5973808ed3f9300c"
  }
 ],
 "signed": {
  "_type": "root",
  "consistent_snapshot": true,
  "expires": "2021-07-06T19:36:53Z",
  "keys": {
   "475217b7216645a784ca5fddd75f1ad5c6337d9523d51590000d257a8f3e7ba7": {
    "keytype": "ed25519",
    "keyval": {
     "public": "bc68efbe4bef9aa8fa539588a7c0f4a3947eb2f7e1fb4cba1a6ff4cde66352bf"
    },
    "scheme": "ed25519"
   },
   "54e32f2bee7b2f72078590bd67783a6cfeb39ccb87e21d1223ff7527b41e75da": {
    "keytype": "ed25519",
    "keyval": {
     "public": "44d98516dda18d655d6f58393ab12ec7fbc217a12eb2f1c19d1f07a3458ff1c2"
    },
    "scheme": "ed25519"
   },
   "7fc3fcf6f5c499729ec5d145ed3e37fc6821f03c9750d4b5ab96aee8db3213d4": {
    "keytype": "ed25519",
    "keyval": {
     "public": "7410aef54797f633607b2360d9c9f45c8837bbf75b9702e831f87f2ffeed2ecf"
    },
    "scheme": "ed25519"
   },
   "c9d16cd1ac840a48b2e675c54827d1dd59c9099aadb9302a70c610dbd5fadd83": {
    "keytype": "ed25519",
    "keyval": {
     "public": "1fac01ed71ca77feeef5662bc572257032dc390b3666f4ecaabe8fa88987a2c9"
    },
    "scheme": "ed25519"
   }
  },
  "roles": {
   "root": {
    "keyids": [
     "475217b7216645a784ca5fddd75f1ad5c6337d9523d51590000d257a8f3e7ba7"
    ],
    "threshold": 1
   },
   "snapshot": {
    "keyids": [
     "54e32f2bee7b2f72078590bd67783a6cfeb39ccb87e21d1223ff7527b41e75da"
    ],
    "threshold": 1
   },
   "targets": {
    "keyids": [
     "7fc3fcf6f5c499729ec5d145ed3e37fc6821f03c9750d4b5ab96aee8db3213d4"
    ],
    "threshold": 1
   },
   "timestamp": {
    "keyids": [
     "c9d16cd1ac840a48b2e675c54827d1dd59c9099aadb9302a70c610dbd5fadd83"
    ],
    "threshold": 1
   }
  },
  "spec_version": "1.0.19",
  "version": 1,
  "x-tufctl-expiry-period": 86400
 }
}
""";

    private const string Root2Signature = "3b0b86cc5ab9636e20a3883722ef8dacb6179474f7d33e6815e207282139c6dcbe048646a8595a7c9c6ce0d8dfdde8e394676463c30e7d5aa7b44a4d8b8fd205";

    // 2.root.json differs from 1.root.json only in its signature, expiry, version and the x-tufctl field.
    private static string Root2 => Root1
        .Replace("c4c8cfac97a5a0f393f7c2f079252df3212c4b372708dcaf4b932a17455e5204abd0c2561e2a27e82e859370a83e08febc7d09907398af5c5973808ed3f9300c", Root2Signature, StringComparison.Ordinal)
        .Replace("2021-07-06T19:36:53Z", "2022-07-05T19:38:10Z", StringComparison.Ordinal)
        .Replace("\"version\": 1,", "\"version\": 2,", StringComparison.Ordinal)
        .Replace("86400", "31449600", StringComparison.Ordinal);

    [Fact]
    public void PythonTufRoot_VerifiesAgainstItself_WithMatchingKeyIds()
    {
        var state = TrustedState.FromRoot(Encoding.UTF8.GetBytes(Root1));

        Assert.Equal(1, state.Root.Version);
        Assert.True(state.Root.ConsistentSnapshot);
        Assert.All(state.Root.Keys.Values, k => Assert.True(k.IsSupported));
    }

    [Fact]
    public void PythonTufRootRotation_VerifiesWithTheOldRootKeys_AndThroughTheUpdater()
    {
        var files = new Dictionary<string, byte[]> { ["2.root.json"] = Encoding.UTF8.GetBytes(Root2) };
        var clock = new FakeClock(new DateTimeOffset(2021, 8, 1, 0, 0, 0, TimeSpan.Zero));
        var updater = new Updater(TrustedState.FromRoot(Encoding.UTF8.GetBytes(Root1)), new InMemoryMetadataSource(files), clock);

        // Root 2 is accepted (root 1 would have expired by then); the repository has no timestamp here.
        var e = Assert.Throws<AirlockRejectedException>(() => updater.Refresh());
        Assert.Equal(AirlockRejection.UnknownRole, e.Reason);
        var root2 = TufMetadataParser.ParseRoot(files["2.root.json"], TufUpdaterOptions.Default);
        var count = TufSignatureVerifier.CountValid(root2, updater.Trusted.Root.Keys, updater.Trusted.Root.Roles["root"]);
        Assert.Equal(1, count.Valid);
    }

    [Fact]
    public void PythonTufRoot_WithOneCharacterChangedInSigned_NoLongerVerifies()
    {
        var tampered = Root1.Replace("\"threshold\": 1\n   },\n   \"snapshot\"", "\"threshold\": 2\n   },\n   \"snapshot\"", StringComparison.Ordinal);
        Assert.NotEqual(Root1, tampered);

        var e = Assert.Throws<AirlockRejectedException>(() => TrustedState.FromRoot(Encoding.UTF8.GetBytes(tampered)));
        Assert.Equal(AirlockRejection.BadSignature, e.Reason);
    }

    /// <summary>Sigstore staging root 5 (github.com/sigstore/root-signing-staging): ECDSA P-256, DER signatures, two root keys.</summary>
    private const string SigstoreStagingRoot5 = """
{
 "signatures": [
  {
   "keyid": "c8e09a68b5821b75462ae0df52151c81deb7f1838246dc1da8c34cc91ec12bda",
   "sig": "30440220658cdfd99f8920fabe6f7b3a8a25711d5bd2865f956562c74b4a964440bca1dc022029d3794d5db60e786197b4101266b06bc6d89eba839a406af95666494f4a2be7"
  },
  {
   "keyid": "762cb22caca65de5e9b7b6baecb84ca989d337280ce6914b6440aea95769ad93",
   "sig": "304402203c1478ea95e759b41ff1e73a6a747121f76e553bb6d5588d83411fb4d31f1106022011e1b887c2acb076ea0a351d3e6d2116b94e4a7b05eb4c3ca72d3b2cb3aa6ee5"
  }
 ],
 "signed": {
  "_type": "root",
  "consistent_snapshot": true,
  "expires": "2034-01-19T13:29:13Z",
  "keys": {
   "5416a7a35ef827abc651e200ac11f3d23e9db74ef890b1fedb69fb2a152ebac5": {
    "keytype": "ecdsa",
    "keyval": {
     "public": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExxmEtmhF5U+i+v/6he4BcSLzCgMx\n/0qSrvDg6bUWwUrkSKS2vDpcJrhGy5fmmhRrGawjPp1ALpC3y1kqFTpXDg==\n-----END PUBLIC KEY-----\n"
    },
    "scheme": "ecdsa-sha2-nistp256",
    "x-tuf-on-ci-online-uri": "gcpkms:projects/projectsigstore-staging/locations/global/keyRings/tuf-keyring/cryptoKeys/tuf-key/cryptoKeyVersions/2"
   },
   "762cb22caca65de5e9b7b6baecb84ca989d337280ce6914b6440aea95769ad93": {
    "keytype": "ecdsa",
    "keyval": {
     "public": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEohqIdE+yTl4OxpX8ZxNUPrg3SL9H\nBDnhZuceKkxy2oMhUOxhWweZeG3bfM1T4ZLnJimC6CAYVU5+F5jZCoftRw==\n-----END PUBLIC KEY-----\n"
    },
    "scheme": "ecdsa-sha2-nistp256",
    "x-tuf-on-ci-keyowner": "@jku"
   },
   "c8e09a68b5821b75462ae0df52151c81deb7f1838246dc1da8c34cc91ec12bda": {
    "keyid_hash_algorithms": [
     "sha256",
     "sha512"
    ],
    "keytype": "ecdsa-sha2-nistp256",
    "keyval": {
     "public": "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEL3vL/VeaH6nBbo4rekyO4cc/QthS\n+nlyJXCXSnyIMAtLmVTa8Pf0qG6YIVaR0TmLkyk9YoSVsZakxuMTuaEwrg==\n-----END PUBLIC KEY-----\n"
    },
    "scheme": "ecdsa-sha2-nistp256",
    "x-tuf-on-ci-keyowner": "@-repo-import"
   }
  },
  "roles": {
   "root": {
    "keyids": [
     "c8e09a68b5821b75462ae0df52151c81deb7f1838246dc1da8c34cc91ec12bda",
     "762cb22caca65de5e9b7b6baecb84ca989d337280ce6914b6440aea95769ad93"
    ],
    "threshold": 1
   },
   "snapshot": {
    "keyids": [
     "5416a7a35ef827abc651e200ac11f3d23e9db74ef890b1fedb69fb2a152ebac5"
    ],
    "threshold": 1,
    "x-tuf-on-ci-expiry-period": 3650,
    "x-tuf-on-ci-signing-period": 365
   },
   "targets": {
    "keyids": [
     "762cb22caca65de5e9b7b6baecb84ca989d337280ce6914b6440aea95769ad93"
    ],
    "threshold": 1
   },
   "timestamp": {
    "keyids": [
     "5416a7a35ef827abc651e200ac11f3d23e9db74ef890b1fedb69fb2a152ebac5"
    ],
    "threshold": 1,
    "x-tuf-on-ci-expiry-period": 14,
    "x-tuf-on-ci-signing-period": 7
   }
  },
  "spec_version": "1.0",
  "version": 5,
  "x-tuf-on-ci-expiry-period": 3650,
  "x-tuf-on-ci-signing-period": 365
 }
}
""";

    [Fact]
    public void SigstoreStagingRoot_EcdsaSignaturesByBothRootKeysVerify_WhenKeyIdsAreNotRequiredToBeHashes()
    {
        // Its online key's ID is neither hash form (the key object was edited after the ID was assigned), as
        // python-tuf tolerates: interoperating with such repositories (tuf-client) needs the check off.
        var bytes = Encoding.UTF8.GetBytes(SigstoreStagingRoot5);
        var strict = Assert.Throws<AirlockRejectedException>(() => TrustedState.FromRoot(bytes));
        Assert.Equal(AirlockRejection.Malformed, strict.Reason);

        var state = TrustedState.FromRoot(bytes, new TufUpdaterOptions { RequireKeyIdMatchesKey = false });
        var count = TufSignatureVerifier.CountValid(state.Root, state.Root.Keys, state.Root.Roles["root"]);

        Assert.Equal(2, count.Valid);
        Assert.False(count.AuthorisedSignatureFailed);
    }
}
