namespace Enclave.Inference.Text.Jinja;

/// <summary>A variable scope; lookups walk to the parent, assignments stay in this scope (Jinja's scoping).</summary>
internal sealed class JinjaEnvironment(JinjaEnvironment? parent = null)
{
    private readonly Dictionary<string, JinjaValue> _variables = new(StringComparer.Ordinal);

    public JinjaEnvironment? Parent { get; } = parent;

    public void Set(string name, JinjaValue value) => _variables[name] = value;

    public JinjaValue Lookup(string name)
    {
        for (JinjaEnvironment? env = this; env is not null; env = env.Parent)
        {
            if (env._variables.TryGetValue(name, out JinjaValue? value))
            {
                return value;
            }
        }

        return JinjaUndefined.Instance;
    }
}
