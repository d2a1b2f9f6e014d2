using System.Text;
using Enclave.Inference.Text;

namespace Enclave.Fuzz.Targets;

/// <summary>
/// Chat templates (Jinja), parsed and rendered under small limits: rejection is <see cref="TokenizerException"/>
/// (syntax, a limit, a raised exception, a runtime error). A render that returns more than the output limit is a finding.
/// </summary>
internal static class JinjaTarget
{
    private static readonly ChatTemplateLimits Limits = new() { MaxOutputChars = 64 * 1024, MaxLoopIterations = 20_000, MaxDepth = 64 };

    private static readonly Dictionary<string, string> Special = new(StringComparer.Ordinal) { ["bos_token"] = "<s>", ["eos_token"] = "</s>" };

    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are terse."),
        new("user", "Hi {{ and }} {% raw %}"),
        new("assistant", "Hello."),
        new("user", "Bye"),
    ];

    public static Harness Harness { get; } = new()
    {
        Name = "jinja",
        Parser = "Enclave.Inference.Text.JinjaChatTemplate",
        Run = Run,
        Seeds = () =>
        [
            Seeds.Text("chatml.jinja", "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"),
            Seeds.Text("llama3.jinja", "{{- bos_token }}\n{%- set ns = namespace(system='') %}\n{%- for m in messages -%}\n{%- if m.role == 'system' %}{% set ns.system = m.content | trim %}{% continue %}{% endif -%}\n<|start_header_id|>{{ m.role }}<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>\n{%- endfor %}\n{%- if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"),
            Seeds.Text("macro.jinja", "{% macro f(x, y=2) %}{{ x * y }}{% endmacro %}{{ f(3) }}{{ [1,2,3] | map('string') | join(',') }}{{ {'a': 1}.items() | list | length }}{{ 'abc'[::-1] | upper }}{{ range(3) | sum }}{% if messages[0].role is defined and not false %}{{ raise_exception('no') if 1 > 2 else 'ok' }}{% endif %}{{ strftime_now('%Y') }}"),
            Seeds.Text("loop.jinja", "{% for i in range(10) %}{% for j in range(i) %}{{ loop.index0 ~ loop.first ~ loop.last }}{% endfor %}{% endfor %}{{ messages | tojson }}"),
        ],
    };

    private static void Run(byte[] input)
    {
        var source = Encoding.UTF8.GetString(input);
        try
        {
            var template = JinjaChatTemplate.Parse(source, Special, Limits, FixedClock.Instance);
            var output = template.Render(Conversation, addGenerationPrompt: true);
            if (output.Length > Limits.MaxOutputChars)
            {
                throw new FuzzFindingException($"rendered {output.Length} characters, more than MaxOutputChars {Limits.MaxOutputChars}");
            }
        }
        catch (TokenizerException)
        {
        }
    }
}

/// <summary>A clock that always reads the same instant, so that <c>strftime_now</c> renders the same for every run.</summary>
internal sealed class FixedClock : TimeProvider
{
    public static FixedClock Instance { get; } = new();

    public override DateTimeOffset GetUtcNow() => new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
}
