using System.Globalization;

namespace Enclave.Inference.Text.Jinja;

/// <summary>The parser of @huggingface/jinja (same grammar and precedence), with a bound on nesting depth.</summary>
internal sealed class JinjaParser
{
    private readonly List<JinjaToken> _tokens;
    private readonly int _maxDepth;
    private int _current;
    private int _depth;

    /// <summary>
    /// The <c>for</c> bodies the statement being parsed is in, within the current macro or call block (whose bodies run
    /// where they are called, not in the loop around their definition): <c>break</c> and <c>continue</c> need one, as in
    /// Jinja2, so that a template cannot stop a loop it is not in (fuzz finding 12: they were thrown through the render).
    /// </summary>
    private int _loops;

    private JinjaParser(List<JinjaToken> tokens, int maxDepth)
    {
        _tokens = tokens;
        _maxDepth = maxDepth;
    }

    public static ProgramNode Parse(List<JinjaToken> tokens, int maxDepth)
    {
        var parser = new JinjaParser(tokens, maxDepth);
        var program = new ProgramNode([]);
        while (parser._current < tokens.Count)
        {
            program.Body.Add(parser.ParseAny());
        }

        return program;
    }

    private JinjaToken Token(int offset = 0) =>
        _current + offset < _tokens.Count ? _tokens[_current + offset] : throw new JinjaSyntaxException("Unexpected end of template: a tag or expression is not closed");

    private JinjaToken Expect(JinjaTokenType type, string error)
    {
        JinjaToken token = Token();
        _current++;
        if (token.Type != type)
        {
            throw new JinjaSyntaxException($"Parser Error: {error}. {token.Type} !== {type}.");
        }

        return token;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name))
        {
            throw new JinjaSyntaxException($"Expected {name}");
        }

        _current++;
    }

    private bool Is(params JinjaTokenType[] types)
    {
        if (_current + types.Length > _tokens.Count)
        {
            return false;
        }

        for (int i = 0; i < types.Length; i++)
        {
            if (_tokens[_current + i].Type != types[i])
            {
                return false;
            }
        }

        return true;
    }

    private bool IsStatement(params string[] names) =>
        _current + 1 < _tokens.Count &&
        _tokens[_current].Type == JinjaTokenType.OpenStatement &&
        _tokens[_current + 1].Type == JinjaTokenType.Identifier &&
        names.Contains(_tokens[_current + 1].Value);

    private bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count)
        {
            return false;
        }

        for (int i = 0; i < names.Length; i++)
        {
            if (_tokens[_current + i].Type != JinjaTokenType.Identifier || _tokens[_current + i].Value != names[i])
            {
                return false;
            }
        }

        return true;
    }

    private void Enter()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        if (++_depth > _maxDepth)
        {
            throw new ChatTemplateLimitException($"the template nests deeper than {_maxDepth} levels (ChatTemplateLimits.MaxDepth)");
        }
    }

    private JinjaNode ParseAny()
    {
        Enter();
        try
        {
            JinjaToken token = Token();
            switch (token.Type)
            {
                case JinjaTokenType.Comment:
                    _current++;
                    return new CommentNode(token.Value);
                case JinjaTokenType.Text:
                    _current++;
                    return new StringLiteralNode(token.Value);
                case JinjaTokenType.OpenStatement:
                    return ParseStatement();
                case JinjaTokenType.OpenExpression:
                    Expect(JinjaTokenType.OpenExpression, "Expected opening expression token");
                    JinjaNode result = ParseExpression();
                    Expect(JinjaTokenType.CloseExpression, "Expected closing expression token");
                    return result;
                default:
                    throw new JinjaSyntaxException($"Unexpected token type: {token.Type}");
            }
        }
        finally
        {
            _depth--;
        }
    }

    private List<JinjaNode> ParseUntil(params string[] statements)
    {
        var body = new List<JinjaNode>();
        while (!IsStatement(statements))
        {
            body.Add(ParseAny());
        }

        return body;
    }

    private JinjaNode ParseStatement()
    {
        Expect(JinjaTokenType.OpenStatement, "Expected opening statement token");
        if (Token().Type != JinjaTokenType.Identifier)
        {
            throw new JinjaSyntaxException($"Unknown statement, got {Token().Type}");
        }

        string name = Token().Value;
        JinjaNode result;
        switch (name)
        {
            case "set":
                _current++;
                result = ParseSet();
                break;
            case "if":
                _current++;
                result = ParseIf();
                Expect(JinjaTokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endif");
                Expect(JinjaTokenType.CloseStatement, "Expected %} token");
                break;
            case "macro":
            {
                _current++;
                JinjaNode macroName = ParsePrimary();
                if (macroName is not IdentifierNode id)
                {
                    throw new JinjaSyntaxException("Expected identifier following macro statement");
                }

                List<JinjaNode> args = ParseArgs(parameters: true);
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                List<JinjaNode> body = OutsideLoops(() => ParseUntil("endmacro"));
                result = new MacroNode(id, args, body);
                Expect(JinjaTokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endmacro");
                Expect(JinjaTokenType.CloseStatement, "Expected %} token");
                break;
            }

            case "for":
                _current++;
                result = ParseFor();
                Expect(JinjaTokenType.OpenStatement, "Expected {% token");
                ExpectIdentifier("endfor");
                Expect(JinjaTokenType.CloseStatement, "Expected %} token");
                break;
            case "call":
            {
                _current++;
                List<JinjaNode>? callerArgs = Is(JinjaTokenType.OpenParen) ? ParseArgs(parameters: true) : null;
                JinjaNode callee = ParsePrimary();
                if (callee is not IdentifierNode)
                {
                    throw new JinjaSyntaxException("Expected identifier following call statement");
                }

                List<JinjaNode> callArgs = ParseArgs(parameters: false);
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                List<JinjaNode> body = OutsideLoops(() => ParseUntil("endcall"));
                Expect(JinjaTokenType.OpenStatement, "Expected '{%'");
                ExpectIdentifier("endcall");
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                result = new CallStatementNode(new CallNode(callee, callArgs), callerArgs, body);
                break;
            }

            case "break":
                RequireLoop(name);
                _current++;
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                result = new BreakNode();
                break;
            case "continue":
                RequireLoop(name);
                _current++;
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                result = new ContinueNode();
                break;
            case "filter":
            {
                _current++;
                JinjaNode filter = ParsePrimary();
                if (filter is IdentifierNode && Is(JinjaTokenType.OpenParen))
                {
                    filter = ParseCall(filter);
                }

                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                List<JinjaNode> body = ParseUntil("endfilter");
                Expect(JinjaTokenType.OpenStatement, "Expected '{%'");
                ExpectIdentifier("endfilter");
                Expect(JinjaTokenType.CloseStatement, "Expected '%}'");
                result = new FilterStatementNode(filter, body);
                break;
            }

            default:
                throw new JinjaSyntaxException($"Unknown statement type: {name}");
        }

        return result;
    }

    private JinjaNode ParseSet()
    {
        JinjaNode left = ParseExpressionSequence();
        JinjaNode? value = null;
        List<JinjaNode> body = [];
        if (Is(JinjaTokenType.Equals))
        {
            _current++;
            value = ParseExpressionSequence();
        }
        else
        {
            Expect(JinjaTokenType.CloseStatement, "Expected %} token");
            body = ParseUntil("endset");
            Expect(JinjaTokenType.OpenStatement, "Expected {% token");
            ExpectIdentifier("endset");
        }

        Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
        return new SetNode(left, value, body);
    }

    private IfNode ParseIf()
    {
        Enter();
        try
        {
            JinjaNode test = ParseExpression();
            Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
            List<JinjaNode> body = ParseUntil("elif", "else", "endif");
            var alternate = new List<JinjaNode>();
            if (IsStatement("elif"))
            {
                _current += 2;
                alternate.Add(ParseIf());
            }
            else if (IsStatement("else"))
            {
                _current += 2;
                Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
                alternate = ParseUntil("endif");
            }

            return new IfNode(test, body, alternate);
        }
        finally
        {
            _depth--;
        }
    }

    private void RequireLoop(string statement)
    {
        if (_loops == 0)
        {
            throw new JinjaSyntaxException($"'{statement}' outside of a for loop");
        }
    }

    private List<JinjaNode> OutsideLoops(Func<List<JinjaNode>> parse)
    {
        var loops = _loops;
        _loops = 0;
        try
        {
            return parse();
        }
        finally
        {
            _loops = loops;
        }
    }

    private ForNode ParseFor()
    {
        JinjaNode loopVar = ParseExpressionSequence(primary: true);
        if (loopVar is not (IdentifierNode or TupleLiteralNode))
        {
            throw new JinjaSyntaxException($"Expected identifier/tuple for the loop variable, got {loopVar.GetType().Name} instead");
        }

        if (!IsIdentifier("in"))
        {
            throw new JinjaSyntaxException("Expected `in` keyword following loop variable");
        }

        _current++;
        JinjaNode iterable = ParseExpression();
        Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
        _loops++;
        List<JinjaNode> body;
        try
        {
            body = ParseUntil("endfor", "else");
        }
        finally
        {
            _loops--;
        }

        var alternative = new List<JinjaNode>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(JinjaTokenType.CloseStatement, "Expected closing statement token");
            alternative = ParseUntil("endfor");
        }

        return new ForNode(loopVar, iterable, body, alternative);
    }

    private JinjaNode ParseExpressionSequence(bool primary = false)
    {
        var expressions = new List<JinjaNode> { primary ? ParsePrimary() : ParseExpression() };
        bool isTuple = Is(JinjaTokenType.Comma);
        while (isTuple)
        {
            _current++;
            expressions.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(JinjaTokenType.Comma))
            {
                break;
            }
        }

        return isTuple ? new TupleLiteralNode(expressions) : expressions[0];
    }

    private JinjaNode ParseExpression()
    {
        Enter();
        try
        {
            return ParseIfExpression();
        }
        finally
        {
            _depth--;
        }
    }

    private JinjaNode ParseIfExpression()
    {
        JinjaNode a = ParseOr();
        if (IsIdentifier("if"))
        {
            _current++;
            JinjaNode test = ParseOr();
            if (IsIdentifier("else"))
            {
                _current++;
                JinjaNode falseExpr = ParseExpression();
                return new TernaryNode(test, a, falseExpr);
            }

            return new SelectNode(a, test);
        }

        return a;
    }

    private JinjaNode ParseOr()
    {
        JinjaNode left = ParseAnd();
        while (IsIdentifier("or"))
        {
            _current++;
            left = new BinaryNode("or", left, ParseAnd());
        }

        return left;
    }

    private JinjaNode ParseAnd()
    {
        JinjaNode left = ParseNot();
        while (IsIdentifier("and"))
        {
            _current++;
            left = new BinaryNode("and", left, ParseNot());
        }

        return left;
    }

    private JinjaNode ParseNot()
    {
        if (IsIdentifier("not"))
        {
            Enter();
            try
            {
                _current++;
                return new UnaryNode("not", ParseNot());
            }
            finally
            {
                _depth--;
            }
        }

        return ParseComparison();
    }

    private JinjaNode ParseComparison()
    {
        JinjaNode left = ParseAdditive();
        while (true)
        {
            string op;
            if (IsIdentifier("not", "in"))
            {
                op = "not in";
                _current += 2;
            }
            else if (IsIdentifier("in"))
            {
                op = "in";
                _current++;
            }
            else if (Is(JinjaTokenType.ComparisonBinaryOperator))
            {
                op = Token().Value;
                _current++;
            }
            else
            {
                break;
            }

            left = new BinaryNode(op, left, ParseAdditive());
        }

        return left;
    }

    private JinjaNode ParseAdditive()
    {
        JinjaNode left = ParseMultiplicative();
        while (Is(JinjaTokenType.AdditiveBinaryOperator))
        {
            string op = Token().Value;
            _current++;
            left = new BinaryNode(op, left, ParseMultiplicative());
        }

        return left;
    }

    private JinjaNode ParseMultiplicative()
    {
        JinjaNode left = ParsePower();
        while (Is(JinjaTokenType.MultiplicativeBinaryOperator))
        {
            string op = Token().Value;
            _current++;
            left = new BinaryNode(op, left, ParsePower());
        }

        return left;
    }

    private JinjaNode ParsePower()
    {
        JinjaNode left = ParseTest();
        while (Is(JinjaTokenType.ExponentiationBinaryOperator))
        {
            _current++;
            left = new BinaryNode("**", left, ParseTest());
        }

        return left;
    }

    private JinjaNode ParseTest()
    {
        JinjaNode operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            bool negate = IsIdentifier("not");
            if (negate)
            {
                _current++;
            }

            if (ParsePrimary() is not IdentifierNode test)
            {
                throw new JinjaSyntaxException("Expected identifier for the test");
            }

            operand = new TestNode(operand, negate, test);
        }

        return operand;
    }

    private JinjaNode ParseFilter()
    {
        JinjaNode operand = ParseUnarySign();
        while (Is(JinjaTokenType.Pipe))
        {
            _current++;
            JinjaNode filter = ParsePrimary();
            if (filter is not IdentifierNode)
            {
                throw new JinjaSyntaxException("Expected identifier for the filter");
            }

            if (Is(JinjaTokenType.OpenParen))
            {
                filter = ParseCall(filter);
            }

            operand = new FilterNode(operand, filter);
        }

        return operand;
    }

    private JinjaNode ParseUnarySign()
    {
        if (_current < _tokens.Count && Token() is { Type: JinjaTokenType.UnaryOperator or JinjaTokenType.AdditiveBinaryOperator, Value: "-" or "+" } token)
        {
            Enter();
            try
            {
                _current++;
                return new UnaryNode(token.Value, ParseUnarySign());
            }
            finally
            {
                _depth--;
            }
        }

        JinjaNode member = ParseMember(ParsePrimary());
        return Is(JinjaTokenType.OpenParen) ? ParseCall(member) : member;
    }

    private JinjaNode ParseCall(JinjaNode callee)
    {
        JinjaNode expression = new CallNode(callee, ParseArgs(parameters: false));
        expression = ParseMember(expression);
        if (Is(JinjaTokenType.OpenParen))
        {
            Enter();
            try
            {
                expression = ParseCall(expression);
            }
            finally
            {
                _depth--;
            }
        }

        return expression;
    }

    private List<JinjaNode> ParseArgs(bool parameters)
    {
        Expect(JinjaTokenType.OpenParen, "Expected opening parenthesis for arguments list");
        var args = new List<JinjaNode>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawKeyword = false;
        bool sawSpread = false;
        while (!Is(JinjaTokenType.CloseParen))
        {
            bool keywordSpread = Is(JinjaTokenType.ExponentiationBinaryOperator);
            bool positionalSpread = Is(JinjaTokenType.MultiplicativeBinaryOperator) && Token().Value == "*";
            if (parameters && (keywordSpread || positionalSpread))
            {
                throw new JinjaSyntaxException("Argument unpacking is not allowed in parameter declarations");
            }

            if (keywordSpread)
            {
                _current++;
                args.Add(new KeywordSpreadNode(ParseExpression()));
                if (Is(JinjaTokenType.Comma))
                {
                    _current++;
                }

                if (!Is(JinjaTokenType.CloseParen))
                {
                    throw new JinjaSyntaxException("Expected closing parenthesis: `**` must be applied to the final argument");
                }

                break;
            }

            JinjaNode argument;
            if (positionalSpread)
            {
                if (sawSpread)
                {
                    throw new JinjaSyntaxException("Only one `*` argument unpacking is allowed");
                }

                sawSpread = true;
                _current++;
                argument = new SpreadNode(ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(JinjaTokenType.Equals))
                {
                    _current++;
                    if (argument is not IdentifierNode key)
                    {
                        throw new JinjaSyntaxException(parameters ? "Expected identifier for parameter declaration" : "Expected identifier for keyword argument");
                    }

                    argument = new KeywordArgumentNode(key, ParseExpression());
                }

                if (parameters)
                {
                    string name = argument switch
                    {
                        IdentifierNode i => i.Name,
                        KeywordArgumentNode k => k.Key.Name,
                        _ => throw new JinjaSyntaxException("Expected identifier for parameter declaration"),
                    };
                    if (!names.Add(name))
                    {
                        throw new JinjaSyntaxException($"Duplicate parameter name: {name}");
                    }
                }

                if (argument is KeywordArgumentNode)
                {
                    sawKeyword = true;
                }
                else if (sawKeyword)
                {
                    throw new JinjaSyntaxException(parameters ? "Non-default argument follows default argument" : "Positional arguments must come before keyword arguments");
                }
                else if (sawSpread)
                {
                    throw new JinjaSyntaxException("Positional arguments must not follow `*` argument unpacking");
                }
            }

            args.Add(argument);
            if (Is(JinjaTokenType.Comma))
            {
                _current++;
            }
        }

        Expect(JinjaTokenType.CloseParen, "Expected closing parenthesis for arguments list");
        return args;
    }

    private JinjaNode ParseMemberArguments()
    {
        var slices = new List<JinjaNode?>();
        bool isSlice = false;
        while (!Is(JinjaTokenType.CloseSquareBracket))
        {
            if (Is(JinjaTokenType.Colon))
            {
                slices.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                slices.Add(ParseExpression());
                if (Is(JinjaTokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }

        if (slices.Count == 0)
        {
            throw new JinjaSyntaxException("Expected at least one argument for member/slice expression");
        }

        if (isSlice)
        {
            if (slices.Count > 3)
            {
                throw new JinjaSyntaxException("Expected 0-3 arguments for slice expression");
            }

            return new SliceNode(slices[0], slices.Count > 1 ? slices[1] : null, slices.Count > 2 ? slices[2] : null);
        }

        return slices[0]!;
    }

    private JinjaNode ParseMember(JinjaNode obj)
    {
        while (Is(JinjaTokenType.Dot) || Is(JinjaTokenType.OpenSquareBracket))
        {
            bool computed = Token().Type == JinjaTokenType.OpenSquareBracket;
            _current++;
            JinjaNode property;
            if (computed)
            {
                property = ParseMemberArguments();
                Expect(JinjaTokenType.CloseSquareBracket, "Expected closing square bracket");
            }
            else
            {
                property = ParsePrimary();
                if (property is not (IdentifierNode or NumberLiteralNode { IsInteger: true }))
                {
                    throw new JinjaSyntaxException("Expected identifier or integer following dot operator");
                }
            }

            obj = new MemberNode(obj, property, computed);
        }

        return obj;
    }

    private JinjaNode ParsePrimary()
    {
        JinjaToken token = Token();
        _current++;
        switch (token.Type)
        {
            case JinjaTokenType.NumericLiteral:
                return new NumberLiteralNode(double.Parse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture), !token.Value.Contains('.', StringComparison.Ordinal));
            case JinjaTokenType.StringLiteral:
            {
                string value = token.Value;
                while (Is(JinjaTokenType.StringLiteral))
                {
                    value += Token().Value;
                    _current++;
                }

                return new StringLiteralNode(value);
            }

            case JinjaTokenType.Identifier:
                return new IdentifierNode(token.Value);
            case JinjaTokenType.OpenParen:
            {
                Enter();
                try
                {
                    JinjaNode expression = ParseExpressionSequence();
                    Expect(JinjaTokenType.CloseParen, "Expected closing parenthesis");
                    return expression;
                }
                finally
                {
                    _depth--;
                }
            }

            case JinjaTokenType.OpenSquareBracket:
            {
                var values = new List<JinjaNode>();
                while (!Is(JinjaTokenType.CloseSquareBracket))
                {
                    values.Add(ParseExpression());
                    if (Is(JinjaTokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                return new ArrayLiteralNode(values);
            }

            case JinjaTokenType.OpenCurlyBracket:
            {
                var entries = new List<(JinjaNode, JinjaNode)>();
                while (!Is(JinjaTokenType.CloseCurlyBracket))
                {
                    JinjaNode key = ParseExpression();
                    Expect(JinjaTokenType.Colon, "Expected colon between key and value in object literal");
                    entries.Add((key, ParseExpression()));
                    if (Is(JinjaTokenType.Comma))
                    {
                        _current++;
                    }
                }

                _current++;
                return new ObjectLiteralNode(entries);
            }

            default:
                throw new JinjaSyntaxException($"Unexpected token: {token.Type}");
        }
    }
}
