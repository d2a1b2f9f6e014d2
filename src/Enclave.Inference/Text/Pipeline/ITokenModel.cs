namespace Enclave.Inference.Text.Pipeline;

/// <summary>The model of a <c>tokenizer.json</c> (BPE or WordPiece): turns one pre-tokenized piece into token IDs.</summary>
internal interface ITokenModel
{
    /// <summary>ID of the unknown token, if the model has one.</summary>
    int? UnknownId { get; }

    /// <summary>Whether runs of unknown tokens are fused into one (BPE's <c>fuse_unk</c>).</summary>
    bool FuseUnknown { get; }

    /// <summary>Appends the IDs of one pre-tokenized piece to <paramref name="ids"/>.</summary>
    void Encode(string piece, List<int> ids);
}
