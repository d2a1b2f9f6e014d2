using Enclave.Inference.Text;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// <c>tokenizer.json</c> (Hugging Face format) loaded by <see cref="TokenizerLoader"/> under small limits, then used
/// once to encode and decode: rejection is <see cref="TokenizerException"/>.
/// </summary>
internal static class TokenizerTarget
{
    private static readonly TokenizerLimits Limits = new() { MaxTokenizerJsonBytes = 1024 * 1024, RegexMatchTimeout = TimeSpan.FromMilliseconds(500) };

    public static Harness Harness { get; } = new()
    {
        Name = "tokenizer",
        Parser = "Enclave.Inference.Text.TokenizerLoader (tokenizer.json)",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("bpe.json", """{"version":"1.0","added_tokens":[{"id":5,"content":"<|end|>","special":true,"single_word":false,"lstrip":false,"rstrip":false,"normalized":false}],"normalizer":null,"pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},"post_processor":null,"decoder":{"type":"ByteLevel"},"model":{"type":"BPE","dropout":null,"unk_token":null,"fuse_unk":false,"byte_fallback":false,"vocab":{"h":0,"i":1,"hi":2,"Ġ":3,"Ġh":4},"merges":["h i","Ġ h"]}}"""),
            Seeds.Text("sequence.json", """{"version":"1.0","added_tokens":[],"normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Replace","pattern":{"String":" "},"content":"▁"}]},"pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\p{L}+|\\s+"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":false,"use_regex":false}]},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"<s>":{"id":"<s>","ids":[0],"tokens":["<s>"]}}},"decoder":{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"}]},"model":{"type":"BPE","dropout":null,"unk_token":"<unk>","byte_fallback":true,"vocab":{"<s>":0,"<unk>":1,"a":2,"b":3,"ab":4,"<0x41>":5},"merges":[["a","b"]]}}"""),
            Seeds.Text("wordpiece.json", """{"version":"1.0","added_tokens":[{"id":0,"content":"[PAD]","special":true},{"id":1,"content":"[UNK]","special":true},{"id":2,"content":"[CLS]","special":true},{"id":3,"content":"[SEP]","special":true}],"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},{"SpecialToken":{"id":"[SEP]","type_id":0}}],"pair":[],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},"[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}},"decoder":{"type":"WordPiece","prefix":"##","cleanup":true},"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hi":4,"##i":5,"h":6}}}"""),
        ],
    };

    private static void Run(byte[] input)
    {
        try
        {
            var loaded = TokenizerLoader.Load(input, limits: Limits, timeProvider: FixedClock.Instance);
            var ids = loaded.Tokenizer.Encode("hi hi, héllo 😀 <|end|>", addSpecialTokens: true);
            loaded.Tokenizer.Decode(ids, skipSpecialTokens: false);
        }
        catch (TokenizerException)
        {
        }
    }
}
