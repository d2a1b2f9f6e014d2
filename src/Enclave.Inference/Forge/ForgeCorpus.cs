namespace Enclave.Inference.Forge;

/// <summary>The text the forge's tokenizer learns its merges from: plain English, chat turns and a little code.</summary>
internal static class ForgeCorpus
{
    public const string Text = """
        The enclave runs in the dark. Nothing leaves the network unless an operator writes a route for it, and nothing
        comes in until the airlock has checked every signature, every length and every hash. A model that passed the
        airlock is served on the same interface as the models of other engines, so that the people who use it do not
        have to care where it runs. Every request is written to the ledger before the first token is produced, and
        every answer is written to the ledger when it is complete. An auditor who holds only the public key can verify
        the whole history of the ledger on a computer of their own, without asking the server for anything.

        The system is made of small parts. The core holds digests, canonical JSON and the clock. The signing part
        holds the keys and the signed notes. The ledger holds the Merkle tree, the tiles, the proofs and the
        checkpoints. The inference part holds the model registry, the engine, the tokenizers and the sampler. The
        policy part holds the principals, the roles, the labels and the quotas. The server puts all of them together
        behind one address, and the command line talks to the server with a token.

        A user asks a question. The server checks the key of the user, then the policy, then the labels of the model
        and of the backend. When all of them agree, the request is admitted and the model starts to generate. The
        tokens are streamed back one by one, and when the model writes the end of its turn, the answer is complete.
        If the user cancels the request, the generation stops at once and the ledger records that it was cancelled.

        user: What is the weather like today?
        assistant: I cannot see the weather from inside the enclave, but I can help you with the documents you have.
        user: Please write a short summary of the report.
        assistant: The report describes the network, the people who operate it and the rules they follow.
        system: You are a helpful assistant. Answer briefly and say when you do not know.
        user: How many tokens are in this sentence?
        assistant: That depends on the tokenizer: a byte-level tokenizer splits words into pieces it has learned.

        public sealed class Counter
        {
            private int _value;

            public int Next() => Interlocked.Increment(ref _value);
        }

        def count_words(text):
            return len(text.split())

        for (let index = 0; index < items.length; index += 1) {
            console.log(items[index]);
        }

        Numbers are read one digit at a time: 2024, 3.14159, 1000000 and 42 are all split into single digits.
        Models learn from data, and the data they learn from shapes what they say. A model with random weights says
        nothing that means anything: its text is noise, which is exactly what a test of the engine needs, because the
        test checks the machinery and not the meaning. The forge writes such models in the same layout as the real
        ones, with the same inputs and outputs, the same tokenizer files and the same chat template.
        """;
}
