namespace Enclave.Inference.Text.Jinja;

/// <summary>A node of a parsed template (statements and expressions), after @huggingface/jinja's AST.</summary>
internal abstract record JinjaNode;

internal sealed record ProgramNode(List<JinjaNode> Body) : JinjaNode;

internal sealed record IfNode(JinjaNode Test, List<JinjaNode> Body, List<JinjaNode> Alternate) : JinjaNode;

internal sealed record ForNode(JinjaNode LoopVar, JinjaNode Iterable, List<JinjaNode> Body, List<JinjaNode> DefaultBlock) : JinjaNode;

internal sealed record BreakNode : JinjaNode;

internal sealed record ContinueNode : JinjaNode;

internal sealed record SetNode(JinjaNode Assignee, JinjaNode? Value, List<JinjaNode> Body) : JinjaNode;

internal sealed record MacroNode(IdentifierNode Name, List<JinjaNode> Args, List<JinjaNode> Body) : JinjaNode;

internal sealed record CommentNode(string Text) : JinjaNode;

internal sealed record CallStatementNode(CallNode Call, List<JinjaNode>? CallerArgs, List<JinjaNode> Body) : JinjaNode;

internal sealed record FilterStatementNode(JinjaNode Filter, List<JinjaNode> Body) : JinjaNode;

internal sealed record MemberNode(JinjaNode Object, JinjaNode Property, bool Computed) : JinjaNode;

internal sealed record CallNode(JinjaNode Callee, List<JinjaNode> Args) : JinjaNode;

internal sealed record IdentifierNode(string Name) : JinjaNode;

internal sealed record NumberLiteralNode(double Value, bool IsInteger) : JinjaNode;

internal sealed record StringLiteralNode(string Value) : JinjaNode;

internal sealed record ArrayLiteralNode(List<JinjaNode> Items) : JinjaNode;

internal sealed record TupleLiteralNode(List<JinjaNode> Items) : JinjaNode;

internal sealed record ObjectLiteralNode(List<(JinjaNode Key, JinjaNode Value)> Entries) : JinjaNode;

internal sealed record BinaryNode(string Operator, JinjaNode Left, JinjaNode Right) : JinjaNode;

internal sealed record FilterNode(JinjaNode Operand, JinjaNode Filter) : JinjaNode;

internal sealed record SelectNode(JinjaNode Lhs, JinjaNode Test) : JinjaNode;

internal sealed record TestNode(JinjaNode Operand, bool Negate, IdentifierNode Test) : JinjaNode;

internal sealed record UnaryNode(string Operator, JinjaNode Argument) : JinjaNode;

internal sealed record SliceNode(JinjaNode? Start, JinjaNode? Stop, JinjaNode? Step) : JinjaNode;

internal sealed record KeywordArgumentNode(IdentifierNode Key, JinjaNode Value) : JinjaNode;

internal sealed record SpreadNode(JinjaNode Argument) : JinjaNode;

internal sealed record KeywordSpreadNode(JinjaNode Argument) : JinjaNode;

internal sealed record TernaryNode(JinjaNode Condition, JinjaNode TrueExpr, JinjaNode FalseExpr) : JinjaNode;
