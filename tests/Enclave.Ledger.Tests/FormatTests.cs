using Enclave.Core;
using Enclave.Core.Audit;
using Enclave.Ledger.Checkpoints;
using Enclave.Ledger.Merkle;
using Enclave.Ledger.Tiles;

namespace Enclave.Ledger.Tests;

public sealed class FormatTests
{
    private static readonly Sha256Digest Root = Sha256Digest.Compute("root"u8);

    [Theory]
    [InlineData(0, "000")]
    [InlineData(7, "007")]
    [InlineData(1000, "x001/000")]
    [InlineData(1234067, "x001/x234/067")]
    public void TileIndex_EncodesAsC2spPathElements(long index, string expected)
    {
        Assert.Equal(expected, TilePath.EncodeIndex(index));
    }

    [Fact]
    public void TilePaths_MatchTheC2spExample()
    {
        // c2sp.org/tlog-tiles: a tree of 70,000 has 273 full level-0 tiles and one partial of width 112,
        // one full level-1 tile and a partial of width 17, and a partial level-2 tile of width 1.
        Assert.Equal(273, TilePath.FullTiles(0, 70_000));
        Assert.Equal(112, TilePath.PartialWidth(0, 70_000));
        Assert.Equal(1, TilePath.FullTiles(1, 70_000));
        Assert.Equal(17, TilePath.PartialWidth(1, 70_000));
        Assert.Equal(1, TilePath.PartialWidth(2, 70_000));
        Assert.Equal("tile/0/273.p/112", TilePath.Tile(0, 273, 112));
        Assert.Equal("tile/entries/x001/234", TilePath.EntryBundle(1234, 256));
    }

    [Fact]
    public void Checkpoint_FormatsAndParsesTheC2spLayout()
    {
        var checkpoint = new Checkpoint { Origin = "example.com/log", Size = 12345, RootHash = Root, Extensions = ["ext one"] };
        var text = checkpoint.Format();

        Assert.Equal($"example.com/log\n12345\n{Root.ToBase64()}\next one\n", text);
        var parsed = Checkpoint.Parse(text);
        Assert.Equal(checkpoint.Size, parsed.Size);
        Assert.Equal(checkpoint.RootHash, parsed.RootHash);
        Assert.Equal(["ext one"], parsed.Extensions);
    }

    [Theory]
    [InlineData("example.com/log\n012\nROOT\n")]             // leading zero
    [InlineData("example.com/log\n-1\nROOT\n")]
    [InlineData("example.com/log\n99999999999999999999\nROOT\n")] // overflows
    [InlineData("example.com/log\n12\nnot-base64\n")]
    [InlineData("example.com/log\n12\n")]                    // no root
    [InlineData("example.com/log\n12\nROOT")]                // no final newline
    [InlineData("example.com/log\n12\nROOT\n\n")]            // empty extension line
    [InlineData("bad origin\n12\nROOT\n")]
    [InlineData("")]
    public void Checkpoint_RejectsMalformedText(string template)
    {
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse(template.Replace("ROOT", Root.ToBase64(), StringComparison.Ordinal)));
    }

    [Fact]
    public void Checkpoint_RejectsOversizedText()
    {
        var text = $"example.com/log\n1\n{Root.ToBase64()}\n" + string.Concat(Enumerable.Repeat(new string('x', 1000) + "\n", 70));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse(text));
    }

    [Fact]
    public void TlogProof_RoundTripsTheC2spLayout()
    {
        var proof = new TlogProof { Index = 73894, Proof = [Root, Sha256Digest.Compute("x"u8)], SignedCheckpoint = "example.com/log\n1\nAAAA\n\n— example.com/log sig\n", Extra = [1, 2, 3] };
        var text = proof.Format();

        Assert.StartsWith("c2sp.org/tlog-proof@v1\nextra AQID\nindex 73894\n", text, StringComparison.Ordinal);
        var parsed = TlogProof.Parse(text);
        Assert.Equal(73894, parsed.Index);
        Assert.Equal(proof.Proof, parsed.Proof);
        Assert.Equal(proof.SignedCheckpoint, parsed.SignedCheckpoint);
        Assert.Equal(proof.Extra, parsed.Extra);
    }

    [Theory]
    [InlineData("c2sp.org/tlog-proof@v2\nindex 1\n\ncp\n")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex x\n\ncp\n")]
    [InlineData("c2sp.org/tlog-proof@v1\n\ncp\n")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 1\nnot-a-hash\n\ncp\n")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 1\n")]
    public void TlogProof_RejectsMalformedText(string text)
    {
        Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse(text));
    }

    [Fact]
    public void TlogProof_RejectsTooManyHashes()
    {
        var hashes = string.Concat(Enumerable.Repeat(Root.ToBase64() + "\n", 65));
        Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse($"c2sp.org/tlog-proof@v1\nindex 1\n{hashes}\ncp\n"));
    }

    // Size-limit boundaries (mutation testing, docs/testing.md): exactly at each limit is accepted, one past refused,
    // so that '>' mutated to '>=' (or the limit moved by one) is caught.
    [Fact]
    public void Checkpoint_AcceptsTextOfExactlyTheLimit_AndRefusesOneCharacterMore()
    {
        var head = $"example.com/log\n1\n{Root.ToBase64()}\n";
        var filler = Checkpoint.MaxBodySize - head.Length - 1;
        var atLimit = head + new string('x', filler) + "\n";
        Assert.Equal(Checkpoint.MaxBodySize, atLimit.Length);
        Assert.Single(Checkpoint.Parse(atLimit).Extensions);

        var over = head + new string('x', filler + 1) + "\n";
        var ex = Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse(over));
        Assert.Contains("limit", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_SizeLine_AcceptsNineteenDigitsAndZero_AndRefusesTwenty()
    {
        Assert.Equal(long.MaxValue, Checkpoint.Parse($"example.com/log\n{long.MaxValue}\n{Root.ToBase64()}\n").Size);
        Assert.Equal(0, Checkpoint.Parse($"example.com/log\n0\n{Root.ToBase64()}\n").Size);
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n10000000000000000000\n{Root.ToBase64()}\n"));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n00\n{Root.ToBase64()}\n"));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n\n{Root.ToBase64()}\n"));
    }

    [Fact]
    public void Checkpoint_Origin_AcceptsTwoHundredFiftyFiveCharacters_AndRefusesMore()
    {
        Checkpoint.ValidateOrigin(new string('o', 255));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.ValidateOrigin(new string('o', 256)));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.ValidateOrigin(""));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.ValidateOrigin("a+b"));
        Assert.Throws<EnclaveFormatException>(() => Checkpoint.ValidateOrigin("a\u0007b"));
    }

    [Fact]
    public void TlogProof_AcceptsExactlyTheMostHashes_AndTextOfTheLimit()
    {
        var hashes = string.Concat(Enumerable.Repeat(Root.ToBase64() + "\n", MerkleVerifier.MaxInclusionProofLength));
        Assert.Equal(MerkleVerifier.MaxInclusionProofLength, TlogProof.Parse($"c2sp.org/tlog-proof@v1\nindex 1\n{hashes}\ncp\n").Proof.Count);

        var head = "c2sp.org/tlog-proof@v1\nindex 1\n\n";
        var atLimit = head + new string('c', TlogProof.MaxSize - head.Length);
        Assert.Equal(TlogProof.MaxSize, atLimit.Length);
        Assert.Equal(1, TlogProof.Parse(atLimit).Index);
        Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse(atLimit + "c"));
    }

    [Fact]
    public void TlogProof_IndexZero_IsAccepted_AndAnEmptyIndexIsNot()
    {
        Assert.Equal(0, TlogProof.Parse("c2sp.org/tlog-proof@v1\nindex 0\n\ncp\n").Index);
        Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse("c2sp.org/tlog-proof@v1\nindex \n\ncp\n"));
        Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\ncp\n"));
    }

    // Mutation testing (docs/testing.md): .NET's integer parsing accepts trailing NUL characters (long.TryParse reads
    // "12\0" as 12), so it is the all-ASCII-digits check that refuses them; that check weakened to "any character is a
    // digit" survived every other test.
    [Theory]
    [InlineData("12\0")]
    [InlineData("12\0\0")]
    [InlineData("0\0")]
    public void Checkpoint_AndTlogProof_RefuseANumberWithTrailingNuls(string number)
    {
        var checkpoint = Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n{number}\n{Root.ToBase64()}\n"));
        Assert.Contains("is not a decimal number without leading zeros", checkpoint.Message, StringComparison.Ordinal);
        var proof = Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse($"c2sp.org/tlog-proof@v1\nindex {number}\n\ncp\n"));
        Assert.Contains("is not a decimal number without leading zeros", proof.Message, StringComparison.Ordinal);
    }

    // Mutation testing (docs/testing.md): each refusal names its own problem, so that a condition or a message swapped
    // for another (or emptied) is noticed, and an empty extension is refused wherever it stands among the extensions.
    [Theory]
    [InlineData("example.com/log\n12\nROOT", "does not end in a newline")]
    [InlineData("example.com/log\n12\n", "has 2 lines")]
    [InlineData("bad origin\n12\nROOT\n", "origin 'bad origin' must be 1 to 255")]
    [InlineData("example.com/log\n012\nROOT\n", "size '012' is not a decimal number")]
    [InlineData("example.com/log\n12\nnot-base64\n", "root hash 'not-base64' is not the base64")]
    [InlineData("example.com/log\n12\nROOT\next\n\n", "empty extension line")]
    [InlineData("example.com/log\n12\nROOT\n\next\n", "empty extension line")]
    public void Checkpoint_RefusalsNameTheirProblem(string template, string expected)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse(template.Replace("ROOT", Root.ToBase64(), StringComparison.Ordinal)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Checkpoint_RefusalsQuoteUpTo48Characters_AndShortenLongerValues()
    {
        var size48 = "1" + new string('x', 47);
        var ex = Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n{size48}\n{Root.ToBase64()}\n"));
        Assert.Contains($"'{size48}'", ex.Message, StringComparison.Ordinal);

        var size49 = size48 + "y";
        ex = Assert.Throws<EnclaveFormatException>(() => Checkpoint.Parse($"example.com/log\n{size49}\n{Root.ToBase64()}\n"));
        Assert.Contains($"'{size48}…'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(size49, ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<EnclaveFormatException>(() => Checkpoint.ValidateOrigin(null!));
        Assert.StartsWith("origin '' must", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OfNull_ThrowsArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => Checkpoint.Parse(null!));
        Assert.Throws<ArgumentNullException>(() => TlogProof.Parse(null!));
    }

    [Fact]
    public void Checkpoint_FormatsEachExtensionOnItsOwnLine()
    {
        var checkpoint = new Checkpoint { Origin = "o", Size = 0, RootHash = Root, Extensions = ["a", "b"] };
        Assert.Equal($"o\n0\n{Root.ToBase64()}\na\nb\n", checkpoint.Format());
        Assert.Equal($"o\n0\n{Root.ToBase64()}\n", (checkpoint with { Extensions = [] }).Format());
    }

    [Theory]
    [InlineData(null)]
    [InlineData(new byte[0])]
    public void TlogProof_WithoutExtraData_HasNoExtraLine(byte[]? extra)
    {
        var proof = new TlogProof { Index = 5, Proof = [Root], SignedCheckpoint = "cp\n", Extra = extra };
        Assert.Equal($"c2sp.org/tlog-proof@v1\nindex 5\n{Root.ToBase64()}\n\ncp\n", proof.Format());
        Assert.Null(TlogProof.Parse(proof.Format()).Extra);
    }

    [Theory]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 1\n", "no empty line")]
    [InlineData("c2sp.org/tlog-proof@v2\nindex 1\n\ncp\n", "must start with 'c2sp.org/tlog-proof@v1'")]
    [InlineData("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\ncp\n", "extra data is not base64")]
    [InlineData("\n\ncp\n", "must start with 'c2sp.org/tlog-proof@v1'")]
    [InlineData("c2sp.org/tlog-proof@v1\n\ncp\n", "lacks its 'index' line")]
    [InlineData("c2sp.org/tlog-proof@v1\nnumber 1\n\ncp\n", "lacks its 'index' line")]
    [InlineData("c2sp.org/tlog-proof@v1\nextra AQID\n\ncp\n", "lacks its 'index' line")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 01\n\ncp\n", "index '01' is not a decimal number")]
    [InlineData("c2sp.org/tlog-proof@v1\nindex 1\nROOT\nnot-a-hash\n\ncp\n", "hash line 2 is not")]
    public void TlogProof_RefusalsNameTheirProblem(string template, string expected)
    {
        var ex = Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse(template.Replace("ROOT", Root.ToBase64(), StringComparison.Ordinal)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TlogProof_RefusalsOfSizeAndHashCount_SayTheLimit()
    {
        var hashes = string.Concat(Enumerable.Repeat(Root.ToBase64() + "\n", MerkleVerifier.MaxInclusionProofLength + 1));
        var ex = Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse($"c2sp.org/tlog-proof@v1\nindex 1\n{hashes}\ncp\n"));
        Assert.Contains("more than 64 hashes", ex.Message, StringComparison.Ordinal);

        var text = "c2sp.org/tlog-proof@v1\nindex 1\n\n" + new string('c', TlogProof.MaxSize);
        ex = Assert.Throws<EnclaveFormatException>(() => TlogProof.Parse(text));
        Assert.Contains($"{text.Length} characters; the limit is {TlogProof.MaxSize}", ex.Message, StringComparison.Ordinal);
    }
}
