namespace Enclave.Inference.Forge;

/// <summary>The chat template a forged GGUF decoder carries in <c>tokenizer.chat_template</c>.</summary>
public enum ForgedChatTemplate
{
    /// <summary>Qwen 2.5's: ChatML turns, tools in the system turn, <c>&lt;tool_call&gt;</c> calls and <c>&lt;tool_response&gt;</c> results.</summary>
    Qwen25,

    /// <summary>Plain ChatML turns; takes no tools.</summary>
    ChatMl,
}
