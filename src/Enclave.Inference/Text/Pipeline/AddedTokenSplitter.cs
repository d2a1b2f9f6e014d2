namespace Enclave.Inference.Text.Pipeline;

/// <summary>
/// Splits text at added tokens, longest match first from the left, as transformers.js's <c>DictionarySplitter</c>
/// does; then applies the tokens' <c>lstrip</c>/<c>rstrip</c> to the neighbouring sections.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly Node _root = new();
    private readonly Dictionary<string, AddedToken> _tokens;

    public AddedTokenSplitter(IReadOnlyList<AddedToken> tokens)
    {
        _tokens = new Dictionary<string, AddedToken>(StringComparer.Ordinal);
        foreach (AddedToken token in tokens)
        {
            if (token.Content.Length == 0)
            {
                continue;
            }

            _tokens[token.Content] = token;
            Node node = _root;
            foreach (char c in token.Content)
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(c, out Node? next))
                {
                    next = new Node();
                    node.Children.Add(c, next);
                }

                node = next;
            }

            node.Token = token;
        }
    }

    /// <summary>The sections of <paramref name="text"/>: plain text (Token null) or an added token.</summary>
    public List<(string Text, AddedToken? Token)> Split(string text)
    {
        var sections = new List<(string Text, AddedToken? Token)>();
        int start = 0;
        int i = 0;
        while (i < text.Length)
        {
            AddedToken? match = null;
            Node? node = _root;
            for (int j = i; j < text.Length && node.Children is not null && node.Children.TryGetValue(text[j], out node); j++)
            {
                if (node.Token is not null)
                {
                    match = node.Token;
                }
            }

            if (match is null)
            {
                i++;
                continue;
            }

            if (i > start)
            {
                sections.Add((text[start..i], null));
            }

            sections.Add((match.Content, match));
            i += match.Content.Length;
            start = i;
        }

        if (start < text.Length)
        {
            sections.Add((text[start..], null));
        }

        for (int k = 0; k < sections.Count; k++)
        {
            if (sections[k].Token is not { } token)
            {
                continue;
            }

            if (token.LeftStrip && k > 0 && sections[k - 1].Token is null)
            {
                sections[k - 1] = (JsText.TrimEnd(sections[k - 1].Text), null);
            }

            if (token.RightStrip && k + 1 < sections.Count && sections[k + 1].Token is null)
            {
                sections[k + 1] = (JsText.TrimStart(sections[k + 1].Text), null);
            }
        }

        return sections;
    }

    public bool IsAddedToken(string content) => _tokens.ContainsKey(content);

    private sealed class Node
    {
        public Dictionary<char, Node>? Children { get; set; }

        public AddedToken? Token { get; set; }
    }
}
