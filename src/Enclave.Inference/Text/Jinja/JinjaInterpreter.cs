using System.Globalization;
using System.Text;
using Enclave.Inference.Text.Pipeline;

namespace Enclave.Inference.Text.Jinja;

/// <summary>
/// Evaluates a parsed template the way @huggingface/jinja does (its value types, operators, filters, tests and
/// builtins), within <see cref="ChatTemplateLimits"/>: output and string/list sizes, loop iterations and depth.
/// </summary>
internal sealed class JinjaInterpreter
{
    private static readonly string[] MonthsLong = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    private static readonly string[] MonthsShort = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private readonly ChatTemplateLimits _limits;
    private readonly TimeProvider _time;
    private long _iterations;
    private int _depth;

    public JinjaInterpreter(ChatTemplateLimits limits, TimeProvider time)
    {
        _limits = limits;
        _time = time;
    }

    /// <summary>The global scope: <c>namespace</c>, <c>raise_exception</c>, <c>range</c>, <c>strftime_now</c>, true/false/none.</summary>
    public JinjaEnvironment CreateGlobals()
    {
        var env = new JinjaEnvironment();
        env.Set("namespace", new JinjaFunction((args, _) => Namespace(args)));
        env.Set("false", JinjaBool.False);
        env.Set("true", JinjaBool.True);
        env.Set("none", JinjaNull.Instance);
        env.Set("False", JinjaBool.False);
        env.Set("True", JinjaBool.True);
        env.Set("None", JinjaNull.Instance);
        env.Set("raise_exception", new JinjaFunction((args, _) =>
            throw new ChatTemplateRaisedException(args.Count > 0 ? args[0].RawString() : string.Empty)));
        env.Set("range", new JinjaFunction((args, _) => Range(args)));
        env.Set("strftime_now", new JinjaFunction((args, _) => new JinjaString(StrftimeNow(args.Count > 0 ? args[0].RawString() : string.Empty))));
        return env;
    }

    public string Run(ProgramNode program, JinjaEnvironment env) => EvaluateBlock(program.Body, env).Value;

    private JinjaString EvaluateBlock(List<JinjaNode> statements, JinjaEnvironment env)
    {
        var sb = new StringBuilder();
        try
        {
            foreach (JinjaNode statement in statements)
            {
                JinjaValue value = Evaluate(statement, env);
                if (value is not (JinjaNull or JinjaUndefined))
                {
                    sb.Append(value.Render());
                    CheckSize(sb.Length);
                }
            }
        }
        catch (LoopControl control)
        {
            // Jinja2 (which transformers renders chat templates with) yields output as it goes, so what this
            // iteration wrote before its break or continue stays in the loop's output: carry it out to the loop.
            control.Written.Insert(0, sb);
            throw;
        }

        return new JinjaString(sb.ToString());
    }

    /// <summary>
    /// A block rendered into a buffer that a filter or a <c>set</c> consumes when the block ends. A break or continue
    /// leaves the block before that, so, as in Jinja2, what the block wrote is dropped.
    /// </summary>
    private JinjaString EvaluateBuffered(List<JinjaNode> statements, JinjaEnvironment env)
    {
        try
        {
            return EvaluateBlock(statements, env);
        }
        catch (LoopControl control)
        {
            control.Written.Clear();
            throw;
        }
    }

    private JinjaValue Evaluate(JinjaNode? node, JinjaEnvironment env)
    {
        if (node is null)
        {
            return JinjaUndefined.Instance;
        }

        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        if (++_depth > _limits.MaxDepth * 4)
        {
            throw new ChatTemplateLimitException($"rendering nests deeper than {_limits.MaxDepth} levels (ChatTemplateLimits.MaxDepth)");
        }

        try
        {
            return node switch
            {
                ProgramNode p => EvaluateBlock(p.Body, env),
                SetNode s => EvaluateSet(s, env),
                IfNode i => EvaluateBlock(Evaluate(i.Test, env).Truthy ? i.Body : i.Alternate, env),
                ForNode f => EvaluateFor(f, env),
                MacroNode m => EvaluateMacro(m, env),
                CallStatementNode c => EvaluateCallStatement(c, env),
                BreakNode => throw new LoopBreak(),
                ContinueNode => throw new LoopContinue(),
                NumberLiteralNode n => new JinjaNumber(n.Value, n.IsInteger),
                StringLiteralNode s => new JinjaString(s.Value),
                ArrayLiteralNode a => new JinjaArray(a.Items.ConvertAll(x => Evaluate(x, env))),
                TupleLiteralNode t => new JinjaTuple(t.Items.ConvertAll(x => Evaluate(x, env))),
                ObjectLiteralNode o => EvaluateObject(o, env),
                IdentifierNode id => env.Lookup(id.Name),
                CallNode c => EvaluateCall(c, env),
                MemberNode m => EvaluateMember(m, env),
                UnaryNode u => EvaluateUnary(u, env),
                BinaryNode b => EvaluateBinary(b, env),
                FilterNode f => ApplyFilter(Evaluate(f.Operand, env), f.Filter, env),
                FilterStatementNode f => ApplyFilter(EvaluateBuffered(f.Body, env), f.Filter, env),
                TestNode t => EvaluateTest(t, env),
                SelectNode s => Evaluate(s.Test, env).Truthy ? Evaluate(s.Lhs, env) : JinjaUndefined.Instance,
                TernaryNode t => Evaluate(t.Condition, env).Truthy ? Evaluate(t.TrueExpr, env) : Evaluate(t.FalseExpr, env),
                CommentNode => JinjaNull.Instance,
                _ => throw new JinjaRuntimeException($"Unknown node type: {node.GetType().Name}"),
            };
        }
        finally
        {
            _depth--;
        }
    }

    private JinjaObject EvaluateObject(ObjectLiteralNode node, JinjaEnvironment env)
    {
        var map = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        foreach ((JinjaNode keyNode, JinjaNode valueNode) in node.Entries)
        {
            if (Evaluate(keyNode, env) is not JinjaString key)
            {
                throw new JinjaRuntimeException("Object keys must be strings");
            }

            map[key.Value] = Evaluate(valueNode, env);
        }

        return new JinjaObject(map);
    }

    private JinjaNull EvaluateSet(SetNode node, JinjaEnvironment env)
    {
        JinjaValue rhs = node.Value is not null ? Evaluate(node.Value, env) : EvaluateBuffered(node.Body, env);
        switch (node.Assignee)
        {
            case IdentifierNode id:
                env.Set(id.Name, rhs);
                break;
            case TupleLiteralNode tuple:
            {
                if (rhs is not JinjaArray array)
                {
                    throw new JinjaRuntimeException($"Cannot unpack non-iterable type in set: {rhs.TypeName}");
                }

                if (array.Items.Count != tuple.Items.Count)
                {
                    throw new JinjaRuntimeException($"Too {(tuple.Items.Count > array.Items.Count ? "few" : "many")} items to unpack in set");
                }

                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not IdentifierNode name)
                    {
                        throw new JinjaRuntimeException("Cannot unpack to non-identifier in set");
                    }

                    env.Set(name.Name, array.Items[i]);
                }

                break;
            }

            case MemberNode member:
            {
                if (Evaluate(member.Object, env) is not JinjaNamespace ns)
                {
                    throw new JinjaRuntimeException("cannot assign attribute on non-namespace object");
                }

                if (member.Property is not IdentifierNode property)
                {
                    throw new JinjaRuntimeException("Cannot assign to member with non-identifier property");
                }

                ns.Entries[property.Name] = rhs;
                break;
            }

            default:
                throw new JinjaRuntimeException("Invalid LHS inside assignment expression");
        }

        return JinjaNull.Instance;
    }

    private JinjaString EvaluateFor(ForNode node, JinjaEnvironment env)
    {
        var scope = new JinjaEnvironment(env);
        JinjaNode? test = null;
        JinjaValue iterable;
        if (node.Iterable is SelectNode select)
        {
            iterable = Evaluate(select.Lhs, scope);
            test = select.Test;
        }
        else
        {
            iterable = Evaluate(node.Iterable, scope);
        }

        List<JinjaValue> source = iterable switch
        {
            JinjaArray a => a.Items,
            JinjaObject o => o.Entries.Keys.Select(k => (JinjaValue)new JinjaString(k)).ToList(),
            _ => throw new JinjaRuntimeException($"Expected iterable or object type in for loop: got {iterable.TypeName}"),
        };

        var items = new List<JinjaValue>();
        foreach (JinjaValue current in source.ToList())
        {
            CountIteration();
            if (test is not null)
            {
                var loopScope = new JinjaEnvironment(scope);
                BindLoopVariable(node.LoopVar, current, loopScope);
                if (!Evaluate(test, loopScope).Truthy)
                {
                    continue;
                }
            }

            items.Add(current);
        }

        var sb = new StringBuilder();
        bool noIteration = true;
        for (int i = 0; i < items.Count; i++)
        {
            CountIteration();
            var loop = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal)
            {
                ["index"] = new JinjaNumber(i + 1, true),
                ["index0"] = new JinjaNumber(i, true),
                ["revindex"] = new JinjaNumber(items.Count - i, true),
                ["revindex0"] = new JinjaNumber(items.Count - i - 1, true),
                ["first"] = JinjaBool.Of(i == 0),
                ["last"] = JinjaBool.Of(i == items.Count - 1),
                ["length"] = new JinjaNumber(items.Count, true),
                ["previtem"] = i > 0 ? items[i - 1] : JinjaUndefined.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : JinjaUndefined.Instance,
            };
            scope.Set("loop", new JinjaObject(loop));
            BindLoopVariable(node.LoopVar, items[i], scope);
            try
            {
                sb.Append(EvaluateBlock(node.Body, scope).Value);
                CheckSize(sb.Length);
            }
            catch (LoopContinue control)
            {
                sb.Append(control.Written);
                CheckSize(sb.Length);
                continue;
            }
            catch (LoopBreak control)
            {
                sb.Append(control.Written);
                CheckSize(sb.Length);
                break;
            }

            noIteration = false;
        }

        if (noIteration)
        {
            sb.Append(EvaluateBlock(node.DefaultBlock, scope).Value);
        }

        return new JinjaString(sb.ToString());
    }

    private static void BindLoopVariable(JinjaNode loopVar, JinjaValue current, JinjaEnvironment scope)
    {
        if (loopVar is IdentifierNode id)
        {
            scope.Set(id.Name, current);
            return;
        }

        var tuple = (TupleLiteralNode)loopVar;
        if (current is not JinjaArray array)
        {
            throw new JinjaRuntimeException($"Cannot unpack non-iterable type: {current.TypeName}");
        }

        if (tuple.Items.Count != array.Items.Count)
        {
            throw new JinjaRuntimeException($"Too {(tuple.Items.Count > array.Items.Count ? "few" : "many")} items to unpack");
        }

        for (int j = 0; j < tuple.Items.Count; j++)
        {
            if (tuple.Items[j] is not IdentifierNode name)
            {
                throw new JinjaRuntimeException("Cannot unpack non-identifier type");
            }

            scope.Set(name.Name, array.Items[j]);
        }
    }

    private JinjaNull EvaluateMacro(MacroNode node, JinjaEnvironment env)
    {
        bool wantsKwargs = !Declares(node.Args, "kwargs");
        bool wantsVarargs = !Declares(node.Args, "varargs");
        env.Set(node.Name.Name, new JinjaFunction((args, scope) =>
        {
            var macroScope = new JinjaEnvironment(scope);
            BindArguments($"'{node.Name.Name}'", node.Args, wantsKwargs, wantsVarargs, args, macroScope);
            return EvaluateBlock(node.Body, macroScope);
        }));
        return JinjaNull.Instance;
    }

    private JinjaValue EvaluateCallStatement(CallStatementNode node, JinjaEnvironment env)
    {
        List<JinjaNode> parameters = node.CallerArgs ?? [];
        bool wantsKwargs = !Declares(parameters, "kwargs");
        bool wantsVarargs = !Declares(parameters, "varargs");
        var caller = new JinjaFunction((callerArgs, _) =>
        {
            var callEnv = new JinjaEnvironment(env);
            BindArguments("None", parameters, wantsKwargs, wantsVarargs, callerArgs, callEnv);
            return EvaluateBlock(node.Body, callEnv);
        });
        (List<JinjaValue> args, OrderedDictionary<string, JinjaValue> kwargs) = EvaluateArguments(node.Call.Args, env);
        args.Add(new JinjaKeywordArguments(kwargs));
        if (Evaluate(node.Call.Callee, env) is not JinjaFunction fn)
        {
            throw new JinjaRuntimeException("Cannot call something that is not a function");
        }

        var newEnv = new JinjaEnvironment(env);
        newEnv.Set("caller", caller);
        return fn.Function(args, newEnv);
    }

    private void BindArguments(string displayName, List<JinjaNode> parameters, bool wantsKwargs, bool wantsVarargs, List<JinjaValue> args, JinjaEnvironment scope)
    {
        var positional = args.ToList();
        var keywords = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        if (positional.Count > 0 && positional[^1] is JinjaKeywordArguments kw)
        {
            positional.RemoveAt(positional.Count - 1);
            foreach ((string k, JinjaValue v) in kw.Entries)
            {
                keywords[k] = v;
            }
        }

        var pendingDefaults = new List<(string, JinjaNode)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            (string name, JinjaNode? defaultValue) = parameters[i] switch
            {
                IdentifierNode id => (id.Name, (JinjaNode?)null),
                KeywordArgumentNode k => (k.Key.Name, k.Value),
                _ => throw new JinjaRuntimeException("Invalid macro parameter"),
            };
            JinjaValue? value = i < positional.Count ? positional[i] : null;
            if (value is null && keywords.Remove(name, out JinjaValue? fromKeyword))
            {
                value = fromKeyword;
            }

            if (value is null && defaultValue is not null)
            {
                pendingDefaults.Add((name, defaultValue));
            }

            scope.Set(name, value ?? JinjaUndefined.Instance);
        }

        if (wantsKwargs)
        {
            scope.Set("kwargs", new JinjaObject(keywords));
        }
        else if (keywords.Count > 0)
        {
            throw new JinjaRuntimeException($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'");
        }

        if (wantsVarargs)
        {
            scope.Set("varargs", new JinjaArray(positional.Skip(parameters.Count).ToList()));
        }
        else if (positional.Count > parameters.Count)
        {
            throw new JinjaRuntimeException($"macro {displayName} takes not more than {parameters.Count} argument(s)");
        }

        foreach ((string name, JinjaNode defaultValue) in pendingDefaults)
        {
            scope.Set(name, Evaluate(defaultValue, scope));
        }
    }

    // The reference binds kwargs/varargs only when the body reads them (and otherwise rejects surplus arguments);
    // here they are always bound unless a parameter has that name, which renders the same for every valid call.
    private static bool Declares(List<JinjaNode> parameters, string name) =>
        parameters.Any(p => p is IdentifierNode { Name: var n } && n == name || p is KeywordArgumentNode { Key.Name: var k } && k == name);

    private (List<JinjaValue> Positional, OrderedDictionary<string, JinjaValue> Keywords) EvaluateArguments(List<JinjaNode> args, JinjaEnvironment env)
    {
        var positional = new List<JinjaValue>();
        var keywords = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        foreach (JinjaNode arg in args)
        {
            if (arg is SpreadNode spread)
            {
                if (Evaluate(spread.Argument, env) is not JinjaArray array)
                {
                    throw new JinjaRuntimeException("Cannot unpack non-iterable type");
                }

                positional.AddRange(array.Items);
            }
            else if (arg is not (KeywordArgumentNode or KeywordSpreadNode))
            {
                positional.Add(Evaluate(arg, env));
            }
        }

        foreach (JinjaNode arg in args)
        {
            if (arg is KeywordArgumentNode kw)
            {
                if (!keywords.TryAdd(kw.Key.Name, Evaluate(kw.Value, env)))
                {
                    throw new JinjaRuntimeException($"Got multiple values for keyword argument '{kw.Key.Name}'");
                }
            }
            else if (arg is KeywordSpreadNode ks)
            {
                if (Evaluate(ks.Argument, env) is not JinjaObject obj)
                {
                    throw new JinjaRuntimeException("Argument after ** must be a mapping");
                }

                foreach ((string k, JinjaValue v) in obj.Entries)
                {
                    if (!keywords.TryAdd(k, v))
                    {
                        throw new JinjaRuntimeException($"Got multiple values for keyword argument '{k}'");
                    }
                }
            }
        }

        return (positional, keywords);
    }

    private JinjaValue EvaluateCall(CallNode node, JinjaEnvironment env)
    {
        (List<JinjaValue> args, OrderedDictionary<string, JinjaValue> kwargs) = EvaluateArguments(node.Args, env);
        if (kwargs.Count > 0)
        {
            args.Add(new JinjaKeywordArguments(kwargs));
        }

        JinjaValue fn = Evaluate(node.Callee, env);
        if (fn is not JinjaFunction function)
        {
            throw new JinjaRuntimeException($"Cannot call something that is not a function: got {fn.TypeName}");
        }

        return function.Function(args, env);
    }

    private JinjaValue EvaluateMember(MemberNode node, JinjaEnvironment env)
    {
        JinjaValue obj = Evaluate(node.Object, env);
        JinjaValue property;
        if (node.Computed)
        {
            if (node.Property is SliceNode slice)
            {
                return EvaluateSlice(obj, slice, env);
            }

            property = Evaluate(node.Property, env);
        }
        else if (node.Property is NumberLiteralNode n)
        {
            property = new JinjaNumber(n.Value, true);
        }
        else
        {
            property = new JinjaString(((IdentifierNode)node.Property).Name);
        }

        JinjaValue? value;
        switch (obj)
        {
            case JinjaObject o:
                if (property is not JinjaString key)
                {
                    throw new JinjaRuntimeException($"Cannot access property with non-string: got {property.TypeName}");
                }

                value = o.Entries.TryGetValue(key.Value, out JinjaValue? v) ? v : ObjectBuiltin(o, key.Value);
                break;
            case JinjaNamespace ns:
                if (property is not JinjaString nsKey)
                {
                    throw new JinjaRuntimeException($"Cannot access property with non-string: got {property.TypeName}");
                }

                value = ns.Entries.TryGetValue(nsKey.Value, out JinjaValue? nv) ? nv : null;
                break;
            case JinjaArray or JinjaString:
                if (property is JinjaNumber index)
                {
                    value = obj is JinjaArray array ? At(array.Items, index.Value) : AtChar(((JinjaString)obj).Value, index.Value);
                }
                else if (property is JinjaString name)
                {
                    value = obj is JinjaArray array ? (name.Value == "length" ? new JinjaNumber(array.Items.Count, true) : null) : StringBuiltin((JinjaString)obj, name.Value);
                }
                else
                {
                    throw new JinjaRuntimeException($"Cannot access property with non-string/non-number: got {property.TypeName}");
                }

                break;
            default:
                if (property is not JinjaString)
                {
                    throw new JinjaRuntimeException($"Cannot access property with non-string: got {property.TypeName}");
                }

                value = null;
                break;
        }

        return value ?? JinjaUndefined.Instance;
    }

    private static JinjaValue? At(List<JinjaValue> items, double index)
    {
        int i = (int)Math.Truncate(index);
        if (i < 0)
        {
            i += items.Count;
        }

        return i >= 0 && i < items.Count ? items[i] : null;
    }

    private static JinjaValue? AtChar(string s, double index)
    {
        int i = (int)Math.Truncate(index);
        if (i < 0)
        {
            i += s.Length;
        }

        return i >= 0 && i < s.Length ? new JinjaString(s[i].ToString()) : null;
    }

    private JinjaValue EvaluateSlice(JinjaValue obj, SliceNode slice, JinjaEnvironment env)
    {
        if (obj is not (JinjaArray or JinjaString))
        {
            throw new JinjaRuntimeException("Slice object must be an array or string");
        }

        double? Part(JinjaNode? n, string what)
        {
            JinjaValue v = Evaluate(n, env);
            return v switch
            {
                JinjaUndefined => null,
                JinjaNumber { IsInteger: true } num => num.Value,
                _ => throw new JinjaRuntimeException($"Slice {what} must be numeric or undefined"),
            };
        }

        double? start = Part(slice.Start, "start");
        double? stop = Part(slice.Stop, "stop");
        double? step = Part(slice.Step, "step");
        if (obj is JinjaArray array)
        {
            return new JinjaArray(Slice(array.Items, start, stop, step ?? 1));
        }

        List<string> codePoints = CodePoints(((JinjaString)obj).Value);
        return new JinjaString(string.Concat(Slice(codePoints, start, stop, step ?? 1)));
    }

    private static List<T> Slice<T>(List<T> array, double? startArg, double? stopArg, double step)
    {
        if (step == 0)
        {
            throw new JinjaRuntimeException("slice step cannot be zero");
        }

        int n = array.Count;
        int direction = Math.Sign(step);
        int start;
        int stop;
        if (direction >= 0)
        {
            double s = startArg ?? 0;
            double e = stopArg ?? n;
            start = (int)(s < 0 ? Math.Max(n + s, 0) : Math.Min(s, n));
            stop = (int)(e < 0 ? Math.Max(n + e, 0) : Math.Min(e, n));
        }
        else
        {
            double s = startArg ?? n - 1;
            double e = stopArg ?? -1;
            start = (int)(s < 0 ? Math.Max(n + s, -1) : Math.Min(s, n - 1));
            stop = (int)(e < -1 ? Math.Max(n + e, -1) : Math.Min(e, n - 1));
        }

        var result = new List<T>();
        int stepInt = (int)Math.Clamp(step, -(n + 1.0), n + 1.0);
        for (int i = start; direction * i < direction * stop; i += stepInt)
        {
            result.Add(array[i]);
        }

        return result;
    }

    private JinjaValue EvaluateUnary(UnaryNode node, JinjaEnvironment env)
    {
        JinjaValue argument = Evaluate(node.Argument, env);
        switch (node.Operator)
        {
            case "not":
                return JinjaBool.Of(!argument.Truthy);
            case "+":
            case "-":
            {
                int sign = node.Operator == "-" ? -1 : 1;
                return argument switch
                {
                    JinjaNumber n => new JinjaNumber(sign * n.Value, n.IsInteger),
                    JinjaBool b => new JinjaNumber(sign * (b.Value ? 1 : 0), true),
                    _ => throw new JinjaRuntimeException($"Unknown operator \"{node.Operator}\" for {argument.TypeName}"),
                };
            }

            default:
                throw new JinjaRuntimeException($"Unknown operator: {node.Operator}");
        }
    }

    private JinjaValue EvaluateBinary(BinaryNode node, JinjaEnvironment env)
    {
        JinjaValue left = Evaluate(node.Left, env);
        string op = node.Operator;
        if (op == "and")
        {
            return left.Truthy ? Evaluate(node.Right, env) : left;
        }

        if (op == "or")
        {
            return left.Truthy ? left : Evaluate(node.Right, env);
        }

        JinjaValue right = Evaluate(node.Right, env);
        if (op == "==")
        {
            return JinjaBool.Of(LooseEquals(left, right));
        }

        if (op == "!=")
        {
            return JinjaBool.Of(!LooseEquals(left, right));
        }

        if (left is JinjaUndefined || right is JinjaUndefined)
        {
            if (right is JinjaUndefined && op is "in" or "not in")
            {
                return JinjaBool.Of(op == "not in");
            }

            throw new JinjaRuntimeException($"Cannot perform operation {op} on undefined values");
        }

        if (left is JinjaNull || right is JinjaNull)
        {
            throw new JinjaRuntimeException("Cannot perform operation on null values");
        }

        if (op == "~")
        {
            return Str(left.RawString() + right.RawString());
        }

        if (op == "**" && NumericLike(left, out double pa) && NumericLike(right, out double pb))
        {
            if (pa == 0 && pb < 0)
            {
                throw new JinjaRuntimeException("0.0 cannot be raised to a negative power");
            }

            double result = Math.Pow(pa, pb);
            if (!double.IsFinite(result))
            {
                throw new JinjaRuntimeException("Exponentiation result is not a finite real number");
            }

            bool isFloat = left is JinjaNumber { IsInteger: false } || right is JinjaNumber { IsInteger: false } || pb < 0;
            return new JinjaNumber(result, !isFloat);
        }

        if (left is JinjaNumber ln && right is JinjaNumber rn)
        {
            double a = ln.Value;
            double b = rn.Value;
            bool isFloat = !ln.IsInteger || !rn.IsInteger;
            switch (op)
            {
                case "+": return new JinjaNumber(a + b, !isFloat);
                case "-": return new JinjaNumber(a - b, !isFloat);
                case "*": return new JinjaNumber(a * b, !isFloat);
                case "/": return new JinjaNumber(a / b, false);
                case "//": return new JinjaNumber(Math.Floor(a / b), !isFloat);
                case "%": return new JinjaNumber(a % b, !isFloat);
                case "<": return JinjaBool.Of(a < b);
                case ">": return JinjaBool.Of(a > b);
                case ">=": return JinjaBool.Of(a >= b);
                case "<=": return JinjaBool.Of(a <= b);
            }
        }
        else if (left is JinjaArray la && right is JinjaArray ra)
        {
            if (op == "+")
            {
                CheckSize(la.Items.Count + ra.Items.Count);
                return new JinjaArray([.. la.Items, .. ra.Items]);
            }
        }
        else if (right is JinjaArray rArray)
        {
            bool member = rArray.Items.Any(x => StrictEquals(x, left));
            switch (op)
            {
                case "in": return JinjaBool.Of(member);
                case "not in": return JinjaBool.Of(!member);
            }
        }

        if ((left is JinjaString || right is JinjaString) && op == "+")
        {
            return Str(left.RawString() + right.RawString());
        }

        if (left is JinjaString ls && right is JinjaString rs)
        {
            switch (op)
            {
                case "in": return JinjaBool.Of(rs.Value.Contains(ls.Value, StringComparison.Ordinal));
                case "not in": return JinjaBool.Of(!rs.Value.Contains(ls.Value, StringComparison.Ordinal));
            }
        }

        if (left is JinjaString key && right is JinjaObject obj)
        {
            switch (op)
            {
                case "in": return JinjaBool.Of(obj.Entries.ContainsKey(key.Value));
                case "not in": return JinjaBool.Of(!obj.Entries.ContainsKey(key.Value));
            }
        }

        throw new JinjaRuntimeException($"Unknown operator \"{op}\" between {left.TypeName} and {right.TypeName}");
    }

    private static bool NumericLike(JinjaValue v, out double value)
    {
        (bool ok, value) = v switch
        {
            JinjaNumber n => (true, n.Value),
            JinjaBool b => (true, b.Value ? 1.0 : 0.0),
            _ => (false, 0.0),
        };
        return ok;
    }

    /// <summary>JavaScript's <c>a.value == b.value</c>.</summary>
    private static bool LooseEquals(JinjaValue a, JinjaValue b)
    {
        if (a is JinjaNull or JinjaUndefined || b is JinjaNull or JinjaUndefined)
        {
            return a is JinjaNull or JinjaUndefined && b is JinjaNull or JinjaUndefined;
        }

        if (a is JinjaString sa && b is JinjaString sb)
        {
            return string.Equals(sa.Value, sb.Value, StringComparison.Ordinal);
        }

        bool aPrimitive = a is JinjaString or JinjaNumber or JinjaBool;
        bool bPrimitive = b is JinjaString or JinjaNumber or JinjaBool;
        if (aPrimitive && bPrimitive)
        {
            return ToNumber(a) == ToNumber(b);
        }

        return ReferenceEquals(Underlying(a), Underlying(b));
    }

    /// <summary>JavaScript's <c>a.value === b.value</c>.</summary>
    private static bool StrictEquals(JinjaValue a, JinjaValue b) => (a, b) switch
    {
        (JinjaString x, JinjaString y) => string.Equals(x.Value, y.Value, StringComparison.Ordinal),
        (JinjaNumber x, JinjaNumber y) => x.Value == y.Value,
        (JinjaBool x, JinjaBool y) => x.Value == y.Value,
        (JinjaNull, JinjaNull) => true,
        (JinjaUndefined, JinjaUndefined) => true,
        _ => Underlying(a) is { } u && ReferenceEquals(u, Underlying(b)),
    };

    private static object? Underlying(JinjaValue v) => v switch
    {
        JinjaArray a => a.Items,
        JinjaObject o => o.Entries,
        JinjaNamespace n => n.Entries,
        JinjaFunction f => f.Function,
        _ => null,
    };

    private static double ToNumber(JinjaValue v) => v switch
    {
        JinjaNumber n => n.Value,
        JinjaBool b => b.Value ? 1 : 0,
        JinjaString s => JsText.Trim(s.Value) is var t && t.Length == 0 ? 0 :
            double.TryParse(JsText.Trim(s.Value), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : double.NaN,
        _ => double.NaN,
    };

    private JinjaBool EvaluateTest(TestNode node, JinjaEnvironment env)
    {
        JinjaValue operand = Evaluate(node.Operand, env);
        bool result = Test(node.Test.Name, operand, null);
        return JinjaBool.Of(node.Negate ? !result : result);
    }

    private static bool Test(string name, JinjaValue operand, JinjaValue? other) => name switch
    {
        "boolean" => operand is JinjaBool,
        "callable" => operand is JinjaFunction,
        "odd" => operand is JinjaNumber { IsInteger: true } o ? o.Value % 2 != 0 : throw new JinjaRuntimeException($"cannot odd on {operand.TypeName}"),
        "even" => operand is JinjaNumber { IsInteger: true } e ? e.Value % 2 == 0 : throw new JinjaRuntimeException($"cannot even on {operand.TypeName}"),
        "false" => operand is JinjaBool { Value: false },
        "true" => operand is JinjaBool { Value: true },
        "none" => operand is JinjaNull,
        "string" => operand is JinjaString,
        "number" => operand is JinjaNumber,
        "integer" => operand is JinjaNumber { IsInteger: true },
        "iterable" => operand is JinjaArray or JinjaString,
        "mapping" => operand is JinjaObject,
        "sequence" => operand is JinjaArray or JinjaObject or JinjaString,
        "lower" => operand is JinjaString ls && ls.Value == JsText.Lower(ls.Value),
        "upper" => operand is JinjaString us && us.Value == JsText.Upper(us.Value),
        "defined" => operand is not JinjaUndefined,
        "undefined" => operand is JinjaUndefined,
        "equalto" or "eq" => StrictEquals(operand, other ?? JinjaUndefined.Instance),
        _ => throw new JinjaRuntimeException($"Unknown test: {name}"),
    };

    private JinjaValue ApplyFilter(JinjaValue operand, JinjaNode filterNode, JinjaEnvironment env)
    {
        if (filterNode is IdentifierNode filter)
        {
            return ApplySimpleFilter(operand, filter.Name, env);
        }

        if (filterNode is CallNode { Callee: IdentifierNode callee } call)
        {
            return ApplyCallFilter(operand, callee.Name, call.Args, env);
        }

        throw new JinjaRuntimeException("Unknown filter");
    }

    private JinjaValue ApplySimpleFilter(JinjaValue operand, string name, JinjaEnvironment env)
    {
        if (name == "safe")
        {
            return operand;
        }

        if (name == "tojson")
        {
            return Str(JinjaJson.Serialize(operand, new JinjaJson.Options(), 0));
        }

        switch (operand)
        {
            case JinjaArray array:
                switch (name)
                {
                    case "list": return operand;
                    case "first": return array.Items.Count > 0 ? array.Items[0] : JinjaUndefined.Instance;
                    case "last": return array.Items.Count > 0 ? array.Items[^1] : JinjaUndefined.Instance;
                    case "length": return new JinjaNumber(array.Items.Count, true);
                    case "reverse": return new JinjaArray(Enumerable.Reverse(array.Items).ToList());
                    case "sort": return new JinjaArray(SortValues(array.Items, x => x, false, false));
                    case "join": return Str(string.Concat(array.Items.Select(x => x.RawString())));
                    case "string": return Str(JinjaJson.Serialize(operand, new JinjaJson.Options(), 0, convertUndefinedToNull: false));
                    case "unique":
                    {
                        var output = new List<JinjaValue>();
                        foreach (JinjaValue item in array.Items)
                        {
                            if (!output.Any(o => StrictEquals(o, item)))
                            {
                                output.Add(item);
                            }
                        }

                        return new JinjaArray(output);
                    }

                    default: throw new JinjaRuntimeException($"Unknown ArrayValue filter: {name}");
                }

            case JinjaString s:
                switch (name)
                {
                    case "length": return new JinjaNumber(s.Value.Length, true);
                    case "upper": return new JinjaString(JsText.Upper(s.Value));
                    case "lower": return new JinjaString(JsText.Lower(s.Value));
                    case "title": return new JinjaString(TitleCase(s.Value));
                    case "capitalize": return new JinjaString(Capitalize(s.Value));
                    case "trim": return new JinjaString(JsText.Trim(s.Value));
                    case "indent": return Str(Indent(s.Value, "    ", first: false, blank: false));
                    case "join":
                    case "string": return operand;
                    case "int": return new JinjaNumber(JsParseInt(s.Value) ?? 0, true);
                    case "float": return new JinjaNumber(JsParseFloat(s.Value) ?? 0, false);
                    default: throw new JinjaRuntimeException($"Unknown StringValue filter: {name}");
                }

            case JinjaNumber n:
                return name switch
                {
                    "abs" => new JinjaNumber(Math.Abs(n.Value), n.IsInteger),
                    "int" => new JinjaNumber(Math.Floor(n.Value), true),
                    "float" => new JinjaNumber(n.Value, false),
                    "string" => new JinjaString(n.Render()),
                    _ => throw new JinjaRuntimeException($"Unknown NumericValue filter: {name}"),
                };
            case JinjaObject o:
                switch (name)
                {
                    case "items": return Items(o);
                    case "length": return new JinjaNumber(o.Entries.Count, true);
                    default:
                        JinjaValue? builtin = ObjectBuiltin(o, name);
                        return builtin switch
                        {
                            JinjaFunction f => f.Function([], env),
                            not null => builtin,
                            null => throw new JinjaRuntimeException($"Unknown ObjectValue filter: {name}"),
                        };
                }

            case JinjaBool b:
                return name switch
                {
                    "bool" => b,
                    "int" => new JinjaNumber(b.Value ? 1 : 0, true),
                    "float" => new JinjaNumber(b.Value ? 1 : 0, false),
                    "string" => new JinjaString(b.Value ? "true" : "false"),
                    _ => throw new JinjaRuntimeException($"Unknown BooleanValue filter: {name}"),
                };
        }

        throw new JinjaRuntimeException($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
    }

    private JinjaValue ApplyCallFilter(JinjaValue operand, string name, List<JinjaNode> argNodes, JinjaEnvironment env)
    {
        (List<JinjaValue> args, OrderedDictionary<string, JinjaValue> kwargs) = EvaluateArguments(argNodes, env);
        JinjaValue? Arg(int index, string key) => index < args.Count ? args[index] : kwargs.TryGetValue(key, out JinjaValue? v) ? v : null;

        switch (name)
        {
            case "tojson":
            {
                JinjaValue indent = kwargs.GetValueOrDefault("indent") ?? JinjaNull.Instance;
                JinjaValue ensureAscii = kwargs.GetValueOrDefault("ensure_ascii") ?? JinjaBool.False;
                JinjaValue sortKeys = kwargs.GetValueOrDefault("sort_keys") ?? JinjaBool.False;
                JinjaValue separators = kwargs.GetValueOrDefault("separators") ?? JinjaNull.Instance;
                if (indent is not (JinjaNumber { IsInteger: true } or JinjaNull))
                {
                    throw new JinjaRuntimeException("If set, indent must be a number");
                }

                if (ensureAscii is not JinjaBool ea || sortKeys is not JinjaBool sk)
                {
                    throw new JinjaRuntimeException("If set, ensure_ascii and sort_keys must be booleans");
                }

                (string, string)? seps = null;
                if (separators is JinjaArray sepArray)
                {
                    if (sepArray.Items is not [JinjaString item, JinjaString key])
                    {
                        throw new JinjaRuntimeException("separators must be a tuple of two strings");
                    }

                    seps = (item.Value, key.Value);
                }
                else if (separators is not JinjaNull)
                {
                    throw new JinjaRuntimeException("If set, separators must be a tuple of two strings");
                }

                int? indentValue = indent is JinjaNumber i ? (int)i.Value : null;
                return Str(JinjaJson.Serialize(operand, new JinjaJson.Options(indentValue, ea.Value, seps, sk.Value), 0));
            }

            case "join":
            {
                List<string> parts = operand switch
                {
                    JinjaString s => CodePoints(s.Value),
                    JinjaArray a => a.Items.ConvertAll(x => x.RawString()),
                    _ => throw new JinjaRuntimeException($"Cannot apply filter \"join\" to type: {operand.TypeName}"),
                };
                if ((Arg(0, "separator") ?? JinjaString.Empty) is not JinjaString separator)
                {
                    throw new JinjaRuntimeException("separator must be a string");
                }

                return Str(string.Join(separator.Value, parts));
            }

            case "int":
            case "float":
            {
                JinjaValue defaultValue = Arg(0, "default") ?? new JinjaNumber(0, name == "int");
                return operand switch
                {
                    JinjaString s => (name == "int" ? JsParseInt(s.Value) : JsParseFloat(s.Value)) is { } v ? new JinjaNumber(v, name == "int") : defaultValue,
                    JinjaNumber => operand,
                    JinjaBool b => new JinjaNumber(b.Value ? 1 : 0, name == "int"),
                    _ => throw new JinjaRuntimeException($"Cannot apply filter \"{name}\" to type: {operand.TypeName}"),
                };
            }

            case "default":
            {
                JinjaValue defaultValue = args.Count > 0 ? args[0] : JinjaString.Empty;
                if ((Arg(1, "boolean") ?? JinjaBool.False) is not JinjaBool boolean)
                {
                    throw new JinjaRuntimeException("`default` filter flag must be a boolean");
                }

                return operand is JinjaUndefined || (boolean.Value && !operand.Truthy) ? defaultValue : operand;
            }
        }

        switch (operand)
        {
            case JinjaArray array:
                switch (name)
                {
                    case "sort":
                    {
                        bool reverse = (Arg(0, "reverse") ?? JinjaBool.False) is JinjaBool r ? r.Value : throw new JinjaRuntimeException("reverse must be a boolean");
                        bool caseSensitive = (Arg(1, "case_sensitive") ?? JinjaBool.False) is JinjaBool c ? c.Value : throw new JinjaRuntimeException("case_sensitive must be a boolean");
                        JinjaValue attribute = Arg(2, "attribute") ?? JinjaNull.Instance;
                        string? path = attribute switch
                        {
                            JinjaNull => null,
                            JinjaString s => s.Value,
                            JinjaNumber { IsInteger: true } n => n.Render(),
                            _ => throw new JinjaRuntimeException("attribute must be a string, integer, or null"),
                        };
                        return new JinjaArray(SortValues(array.Items, x => path is null ? x : AttributeValue(x, path), caseSensitive, reverse));
                    }

                    case "selectattr":
                    case "rejectattr":
                    {
                        bool select = name == "selectattr";
                        if (array.Items.Any(x => x is not (JinjaObject or JinjaNamespace)))
                        {
                            throw new JinjaRuntimeException($"`{name}` can only be applied to array of objects");
                        }

                        if (argNodes.Count == 0 || argNodes.Any(x => x is not StringLiteralNode))
                        {
                            throw new JinjaRuntimeException($"arguments of `{name}` must be strings");
                        }

                        string attr = ((JinjaString)args[0]).Value;
                        string? testName = args.Count > 1 ? ((JinjaString)args[1]).Value : null;
                        JinjaValue? value = args.Count > 2 ? args[2] : null;
                        var filtered = array.Items.Where(item =>
                        {
                            OrderedDictionary<string, JinjaValue> entries = item is JinjaObject o ? o.Entries : ((JinjaNamespace)item).Entries;
                            bool result = entries.TryGetValue(attr, out JinjaValue? a) &&
                                (testName is null ? a.Truthy : Test(testName, a, value));
                            return select ? result : !result;
                        }).ToList();
                        return new JinjaArray(filtered);
                    }

                    case "map":
                    {
                        if (!kwargs.TryGetValue("attribute", out JinjaValue? attr))
                        {
                            throw new JinjaRuntimeException("`map` expressions without `attribute` set are not currently supported.");
                        }

                        if (attr is not JinjaString attrName)
                        {
                            throw new JinjaRuntimeException("attribute must be a string");
                        }

                        JinjaValue? defaultValue = kwargs.GetValueOrDefault("default");
                        return new JinjaArray(array.Items.ConvertAll(item =>
                        {
                            if (item is not (JinjaObject or JinjaNamespace))
                            {
                                throw new JinjaRuntimeException("items in map must be an object");
                            }

                            JinjaValue v = AttributeValue(item, attrName.Value);
                            return v is JinjaUndefined ? defaultValue ?? JinjaUndefined.Instance : v;
                        }));
                    }
                }

                throw new JinjaRuntimeException($"Unknown ArrayValue filter: {name}");
            case JinjaString s:
                switch (name)
                {
                    case "indent":
                    {
                        if ((Arg(0, "width") ?? new JinjaNumber(4, true)) is not JinjaNumber { IsInteger: true } width)
                        {
                            throw new JinjaRuntimeException("width must be a number");
                        }

                        bool first = (Arg(1, "first") ?? JinjaBool.False).Truthy;
                        bool blank = (Arg(2, "blank") ?? JinjaBool.False).Truthy;
                        CheckSize((long)Math.Max(0, width.Value) * (s.Value.Count(ch => ch == '\n') + 1));
                        return Str(Indent(s.Value, new string(' ', (int)Math.Max(0, width.Value)), first, blank));
                    }

                    case "replace":
                        return StringReplace(s, [.. args, new JinjaKeywordArguments(kwargs)]);
                }

                throw new JinjaRuntimeException($"Unknown StringValue filter: {name}");
            case JinjaObject o:
            {
                if (ObjectBuiltin(o, name) is JinjaFunction fn)
                {
                    if (kwargs.Count > 0)
                    {
                        args.Add(new JinjaKeywordArguments(kwargs));
                    }

                    return fn.Function(args, env);
                }

                throw new JinjaRuntimeException($"Unknown ObjectValue filter: {name}");
            }

            default:
                throw new JinjaRuntimeException($"Cannot apply filter \"{name}\" to type: {operand.TypeName}");
        }
    }

    private static JinjaValue AttributeValue(JinjaValue item, string path)
    {
        JinjaValue value = item;
        foreach (string part in path.Split('.'))
        {
            switch (value)
            {
                case JinjaObject o:
                    value = o.Entries.TryGetValue(part, out JinjaValue? v) ? v : JinjaUndefined.Instance;
                    break;
                case JinjaNamespace ns:
                    value = ns.Entries.TryGetValue(part, out JinjaValue? nv) ? nv : JinjaUndefined.Instance;
                    break;
                case JinjaArray a when int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) && index >= 0 && index < a.Items.Count:
                    value = a.Items[index];
                    break;
                default:
                    return JinjaUndefined.Instance;
            }
        }

        return value;
    }

    private static List<JinjaValue> SortValues(List<JinjaValue> items, Func<JinjaValue, JinjaValue> key, bool caseSensitive, bool reverse)
    {
        var copy = items.ToList();
        // A stable sort, as JavaScript's Array.prototype.sort is.
        var indexed = copy.Select((v, i) => (v, i)).ToList();
        indexed.Sort((a, b) =>
        {
            int c = Compare(key(a.v), key(b.v), caseSensitive);
            c = reverse ? -c : c;
            return c != 0 ? c : a.i.CompareTo(b.i);
        });
        return indexed.ConvertAll(x => x.v);
    }

    private static int Compare(JinjaValue a, JinjaValue b, bool caseSensitive)
    {
        if (a is JinjaNull && b is JinjaNull)
        {
            return 0;
        }

        if (a is JinjaNull || b is JinjaNull || a is JinjaUndefined != b is JinjaUndefined)
        {
            throw new JinjaRuntimeException($"Cannot compare {a.TypeName} with {b.TypeName}");
        }

        if (a is JinjaUndefined)
        {
            return 0;
        }

        if (NumericLike(a, out double x) && NumericLike(b, out double y))
        {
            return x < y ? -1 : x > y ? 1 : 0;
        }

        if (a is JinjaString sa && b is JinjaString sb)
        {
            string p = caseSensitive ? sa.Value : JsText.Lower(sa.Value);
            string q = caseSensitive ? sb.Value : JsText.Lower(sb.Value);
            return Math.Sign(string.CompareOrdinal(p, q));
        }

        throw new JinjaRuntimeException($"Cannot compare different types: {a.TypeName} and {b.TypeName}");
    }

    private static JinjaArray Items(JinjaObject o) =>
        new(o.Entries.Select(p => (JinjaValue)new JinjaArray([new JinjaString(p.Key), p.Value])).ToList());

    private JinjaValue? ObjectBuiltin(JinjaObject o, string name) => name switch
    {
        "get" => new JinjaFunction((args, _) =>
        {
            if (args.Count == 0 || args[0] is not JinjaString key)
            {
                throw new JinjaRuntimeException("Object key must be a string");
            }

            return o.Entries.TryGetValue(key.Value, out JinjaValue? v) ? v : args.Count > 1 ? args[1] : JinjaNull.Instance;
        }),
        "items" => new JinjaFunction((_, _) => Items(o)),
        "keys" => new JinjaFunction((_, _) => new JinjaArray(o.Entries.Keys.Select(k => (JinjaValue)new JinjaString(k)).ToList())),
        "values" => new JinjaFunction((_, _) => new JinjaArray(o.Entries.Values.ToList())),
        "dictsort" => new JinjaFunction((args, _) =>
        {
            OrderedDictionary<string, JinjaValue> kw = args.Count > 0 && args[^1] is JinjaKeywordArguments k ? k.Entries : new(StringComparer.Ordinal);
            List<JinjaValue> positional = args.Where(a => a is not JinjaKeywordArguments).ToList();
            bool caseSensitive = (positional.ElementAtOrDefault(0) ?? kw.GetValueOrDefault("case_sensitive") ?? JinjaBool.False) is JinjaBool cs ? cs.Value : throw new JinjaRuntimeException("case_sensitive must be a boolean");
            string by = (positional.ElementAtOrDefault(1) ?? kw.GetValueOrDefault("by") ?? new JinjaString("key")) is JinjaString b && b.Value is "key" or "value" ? b.Value : throw new JinjaRuntimeException("by must be either 'key' or 'value'");
            bool reverse = (positional.ElementAtOrDefault(2) ?? kw.GetValueOrDefault("reverse") ?? JinjaBool.False) is JinjaBool r ? r.Value : throw new JinjaRuntimeException("reverse must be a boolean");
            return new JinjaArray(SortValues(Items(o).Items, pair => ((JinjaArray)pair).Items[by == "key" ? 0 : 1], caseSensitive, reverse));
        }),
        _ => null,
    };

    private JinjaValue? StringBuiltin(JinjaString s, string name) => name switch
    {
        "upper" => new JinjaFunction((_, _) => new JinjaString(JsText.Upper(s.Value))),
        "lower" => new JinjaFunction((_, _) => new JinjaString(JsText.Lower(s.Value))),
        "strip" => new JinjaFunction((args, _) => new JinjaString(Strip(s.Value, args, true, true))),
        "lstrip" => new JinjaFunction((args, _) => new JinjaString(Strip(s.Value, args, true, false))),
        "rstrip" => new JinjaFunction((args, _) => new JinjaString(Strip(s.Value, args, false, true))),
        "title" => new JinjaFunction((_, _) => new JinjaString(TitleCase(s.Value))),
        "capitalize" => new JinjaFunction((_, _) => new JinjaString(Capitalize(s.Value))),
        "length" => new JinjaNumber(s.Value.Length, true),
        "startswith" => new JinjaFunction((args, _) => JinjaBool.Of(Affix(s.Value, args, "startswith", (v, p) => v.StartsWith(p, StringComparison.Ordinal)))),
        "endswith" => new JinjaFunction((args, _) => JinjaBool.Of(Affix(s.Value, args, "endswith", (v, p) => v.EndsWith(p, StringComparison.Ordinal)))),
        "split" => new JinjaFunction((args, _) => Split(s.Value, args)),
        "replace" => new JinjaFunction((args, _) => StringReplace(s, args)),
        _ => null,
    };

    /// <summary>
    /// Python's <c>str.strip([chars])</c>. Without an argument this is JavaScript's <c>trim</c>, as in the reference;
    /// with one, the reference ignores it and trims all whitespace, where Python (and so transformers) strips only
    /// the given characters. Python is followed there, since that is what the model was trained with.
    /// </summary>
    private static string Strip(string value, List<JinjaValue> args, bool left, bool right)
    {
        if (args.Count == 0 || args[0] is JinjaNull or JinjaUndefined)
        {
            return left && right ? JsText.Trim(value) : left ? JsText.TrimStart(value) : JsText.TrimEnd(value);
        }

        if (args[0] is not JinjaString chars)
        {
            throw new JinjaRuntimeException("strip arg must be None or str");
        }

        int start = 0;
        int end = value.Length;
        while (left && start < end && chars.Value.Contains(value[start], StringComparison.Ordinal))
        {
            start++;
        }

        while (right && end > start && chars.Value.Contains(value[end - 1], StringComparison.Ordinal))
        {
            end--;
        }

        return value[start..end];
    }

    private static bool Affix(string value, List<JinjaValue> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0)
        {
            throw new JinjaRuntimeException($"{name}() requires at least one argument");
        }

        return args[0] switch
        {
            JinjaString p => test(value, p.Value),
            JinjaArray a => a.Items.Any(item => item is JinjaString p ? test(value, p.Value) : throw new JinjaRuntimeException($"{name}() tuple elements must be strings")),
            _ => throw new JinjaRuntimeException($"{name}() argument must be a string or tuple of strings"),
        };
    }

    private JinjaArray Split(string value, List<JinjaValue> args)
    {
        JinjaValue sep = args.Count > 0 ? args[0] : JinjaNull.Instance;
        JinjaValue maxSplitValue = args.Count > 1 ? args[1] : new JinjaNumber(-1, true);
        if (maxSplitValue is not JinjaNumber { IsInteger: true } maxSplitNumber)
        {
            throw new JinjaRuntimeException("maxsplit argument must be a number");
        }

        int maxSplit = (int)maxSplitNumber.Value;
        var result = new List<string>();
        if (sep is JinjaNull)
        {
            string text = JsText.TrimStart(value);
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && JsText.IsWhitespace(text[i]))
                {
                    i++;
                }

                if (i >= text.Length)
                {
                    break;
                }

                if (maxSplit != -1 && result.Count >= maxSplit)
                {
                    result.Add(text[i..]);
                    break;
                }

                int start = i;
                while (i < text.Length && !JsText.IsWhitespace(text[i]))
                {
                    i++;
                }

                result.Add(text[start..i]);
            }
        }
        else if (sep is JinjaString separator)
        {
            if (separator.Value.Length == 0)
            {
                throw new JinjaRuntimeException("empty separator");
            }

            result.AddRange(value.Split(separator.Value));
            if (maxSplit != -1 && result.Count > maxSplit)
            {
                string rest = string.Join(separator.Value, result.Skip(maxSplit));
                result.RemoveRange(maxSplit, result.Count - maxSplit);
                result.Add(rest);
            }
        }
        else
        {
            throw new JinjaRuntimeException("sep argument must be a string or null");
        }

        CheckSize(result.Count);
        return new JinjaArray(result.ConvertAll(x => (JinjaValue)new JinjaString(x)));
    }

    private JinjaString StringReplace(JinjaString s, List<JinjaValue> args)
    {
        if (args.Count < 2 || args[0] is not JinjaString oldValue || args[1] is not JinjaString newValue)
        {
            throw new JinjaRuntimeException("replace() requires two string arguments");
        }

        JinjaValue count = args.Count > 2
            ? args[2] is JinjaKeywordArguments kw ? kw.Entries.GetValueOrDefault("count") ?? JinjaNull.Instance : args[2]
            : JinjaNull.Instance;
        if (count is not (JinjaNumber { IsInteger: true } or JinjaNull))
        {
            throw new JinjaRuntimeException("replace() count argument must be a number or null");
        }

        long remaining = count is JinjaNumber n ? (n.Value < 0 ? long.MaxValue : (long)n.Value) : long.MaxValue;
        if (remaining == 0)
        {
            return s;
        }

        var sb = new StringBuilder();
        if (oldValue.Value.Length == 0)
        {
            // Python inserts the replacement between code points (and at both ends).
            List<string> points = CodePoints(s.Value);
            foreach (string point in points)
            {
                if (remaining-- > 0)
                {
                    sb.Append(newValue.Value);
                    CheckSize(sb.Length);
                }

                sb.Append(point);
            }

            if (remaining > 0)
            {
                sb.Append(newValue.Value);
            }

            return Str(sb.ToString());
        }

        int previous = 0;
        int index;
        while (remaining > 0 && (index = s.Value.IndexOf(oldValue.Value, previous, StringComparison.Ordinal)) >= 0)
        {
            sb.Append(s.Value, previous, index - previous).Append(newValue.Value);
            CheckSize(sb.Length);
            previous = index + oldValue.Value.Length;
            remaining--;
        }

        sb.Append(s.Value, previous, s.Value.Length - previous);
        return Str(sb.ToString());
    }

    private JinjaNamespace Namespace(List<JinjaValue> args)
    {
        var positional = args.ToList();
        JinjaKeywordArguments? kwargs = positional.Count > 0 && positional[^1] is JinjaKeywordArguments k ? k : null;
        if (kwargs is not null)
        {
            positional.RemoveAt(positional.Count - 1);
        }

        if (positional.Count > 1)
        {
            throw new JinjaRuntimeException($"namespace expected at most 1 argument, got {positional.Count}");
        }

        var entries = new OrderedDictionary<string, JinjaValue>(StringComparer.Ordinal);
        if (positional.Count == 1)
        {
            switch (positional[0])
            {
                case JinjaObject o:
                    foreach ((string key, JinjaValue value) in o.Entries)
                    {
                        entries[key] = value;
                    }

                    break;
                case JinjaArray a:
                    foreach (JinjaValue pair in a.Items)
                    {
                        if (pair is not JinjaArray { Items: [JinjaString key, var value] })
                        {
                            throw new JinjaRuntimeException("namespace expected an object or an iterable of [key, value] pairs");
                        }

                        entries[key.Value] = value;
                    }

                    break;
                default:
                    throw new JinjaRuntimeException($"'{positional[0].TypeName}' object is not iterable");
            }
        }

        if (kwargs is not null)
        {
            foreach ((string key, JinjaValue value) in kwargs.Entries)
            {
                entries[key] = value;
            }
        }

        return new JinjaNamespace(entries);
    }

    private JinjaArray Range(List<JinjaValue> args)
    {
        double[] numbers = args.Select(a => a is JinjaNumber n ? n.Value : throw new JinjaRuntimeException("range() arguments must be numbers")).ToArray();
        (double start, double stop, double step) = numbers.Length switch
        {
            1 => (0, numbers[0], 1),
            2 => (numbers[0], numbers[1], 1),
            3 => (numbers[0], numbers[1], numbers[2]),
            _ => throw new JinjaRuntimeException("range() takes 1 to 3 arguments"),
        };
        if (step == 0)
        {
            throw new JinjaRuntimeException("range() step must not be zero");
        }

        var result = new List<JinjaValue>();
        for (double i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            CountIteration();
            result.Add(new JinjaNumber(i, i % 1 == 0));
        }

        return new JinjaArray(result);
    }

    private string StrftimeNow(string format)
    {
        DateTimeOffset now = _time.GetLocalNow();
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] == '%' && i + 1 < format.Length && "YmdbBHM%".Contains(format[i + 1], StringComparison.Ordinal))
            {
                i++;
                sb.Append(format[i] switch
                {
                    'Y' => now.Year.ToString(CultureInfo.InvariantCulture),
                    'm' => now.Month.ToString("00", CultureInfo.InvariantCulture),
                    'd' => now.Day.ToString("00", CultureInfo.InvariantCulture),
                    'b' => MonthsShort[now.Month - 1],
                    'B' => MonthsLong[now.Month - 1],
                    'H' => now.Hour.ToString("00", CultureInfo.InvariantCulture),
                    'M' => now.Minute.ToString("00", CultureInfo.InvariantCulture),
                    _ => "%",
                });
                continue;
            }

            sb.Append(format[i]);
        }

        return sb.ToString();
    }

    private static string TitleCase(string value)
    {
        // JavaScript's value.replace(/\b\w/g, upper): the first word character after a non-word character.
        var chars = value.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            bool word = IsJsWord(chars[i]);
            bool previousWord = i > 0 && IsJsWord(value[i - 1]);
            if (word && !previousWord)
            {
                chars[i] = char.ToUpperInvariant(chars[i]);
            }
        }

        return new string(chars);
    }

    private static bool IsJsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string Capitalize(string value) => value.Length == 0 ? value : JsText.Upper(value[..1]) + value[1..];

    private static string Indent(string value, string indent, bool first, bool blank)
    {
        string[] lines = value.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if ((!first && i == 0) || (!blank && lines[i].Length == 0))
            {
                continue;
            }

            lines[i] = indent + lines[i];
        }

        return string.Join('\n', lines);
    }

    private static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                result.Add(s[i].ToString());
            }
        }

        return result;
    }

    private static double? JsParseInt(string s)
    {
        string t = JsText.TrimStart(s);
        int i = 0;
        bool negative = false;
        if (i < t.Length && t[i] is '+' or '-')
        {
            negative = t[i] == '-';
            i++;
        }

        int start = i;
        while (i < t.Length && char.IsAsciiDigit(t[i]))
        {
            i++;
        }

        if (i == start)
        {
            return null;
        }

        double v = double.Parse(t[start..i], CultureInfo.InvariantCulture);
        return negative ? -v : v;
    }

    private static double? JsParseFloat(string s)
    {
        string t = JsText.TrimStart(s);
        // The longest prefix that parses as a decimal number.
        for (int end = t.Length; end > 0; end--)
        {
            string prefix = t[..end];
            if (prefix.Length > 0 && (char.IsAsciiDigit(prefix[^1]) || prefix[^1] == '.') &&
                double.TryParse(prefix, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double v))
            {
                return v;
            }
        }

        return t.StartsWith("Infinity", StringComparison.Ordinal) ? double.PositiveInfinity : null;
    }

    private JinjaString Str(string value)
    {
        CheckSize(value.Length);
        return new JinjaString(value);
    }

    private void CheckSize(long size)
    {
        if (size > _limits.MaxOutputChars)
        {
            throw new ChatTemplateLimitException($"the template built a string or list of more than {_limits.MaxOutputChars} characters or items (ChatTemplateLimits.MaxOutputChars)");
        }
    }

    private void CountIteration()
    {
        if (++_iterations > _limits.MaxLoopIterations)
        {
            throw new ChatTemplateLimitException($"the template ran more than {_limits.MaxLoopIterations} loop iterations (ChatTemplateLimits.MaxLoopIterations)");
        }
    }

    /// <summary>A break or continue on its way to its loop, with what the iteration wrote before it.</summary>
    private abstract class LoopControl : Exception
    {
        public StringBuilder Written { get; } = new();
    }

    private sealed class LoopBreak : LoopControl;

    private sealed class LoopContinue : LoopControl;
}
