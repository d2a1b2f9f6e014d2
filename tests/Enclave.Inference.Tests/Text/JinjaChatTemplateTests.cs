using Enclave.Inference.Text;

// Not "...Tests.Text": that would shadow Enclave.Inference.Text for code in sibling namespaces that writes Text.ITextTokenizer.
namespace Enclave.Inference.Tests.Tokenization;

/// <summary>The template language's features, limits and errors, one at a time.</summary>
public sealed class JinjaChatTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "Be brief."),
        new("user", "Hi"),
        new("assistant", "Hello."),
        new("user", "Bye"),
    ];

    private static string Render(string template, IReadOnlyList<ChatMessage>? messages = null, bool addGenerationPrompt = false, ChatTemplateLimits? limits = null, TimeProvider? time = null) =>
        JinjaChatTemplate.Parse(template, new Dictionary<string, string> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" }, limits, time)
            .Render(messages ?? Conversation, addGenerationPrompt);

    [Theory]
    [InlineData("{% for m in messages %}{{ loop.index0 }}{{ '^' if loop.first }}{{ '$' if loop.last }},{% endfor %}", "0^,1,2,3$,")]
    [InlineData("{{ messages[0]['role'] }}/{{ messages[-1].content }}/{{ messages|length }}", "system/Bye/4")]
    [InlineData("{% if messages[0].role == 'user' %}u{% elif messages[0].role == 'system' %}s{% else %}x{% endif %}", "s")]
    [InlineData("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}", "4")]
    [InlineData("{% set x = 1 %}{% for m in messages %}{% set x = 2 %}{% endfor %}{{ x }}", "1")]
    [InlineData("{{ '  a b  ' | trim }}|{{ 'hello world' | capitalize }}|{{ 'hello world' | title }}|{{ 'ABC' | lower }}", "a b|Hello world|Hello World|abc")]
    [InlineData("{{ bos_token ~ 'x' ~ 1 ~ true }}{{ 'a' + 'b' }}{{ 2 + 3 * 4 }}{{ 7 // 2 }}{{ 7 / 2 }}{{ 2 ** 10 }}", "<s>x1trueab1433.51024")]
    [InlineData("{{ {'b': 1, 'a': [1, 2.5, none, true, 'x\"y']} | tojson }}", "{\"b\": 1, \"a\": [1, 2.5, null, true, \"x\\\"y\"]}")]
    [InlineData("{{ {'b': 1, 'a': 2} | tojson(indent=2, sort_keys=true) }}", "{\n  \"a\": 2,\n  \"b\": 1\n}")]
    [InlineData("{{ undefined_thing is defined }}{{ messages is defined }}{{ none is none }}{{ 'x' is string }}{{ 3 is odd }}", "falsetruetruetruetrue")]
    [InlineData("{{ messages[1:] | map(attribute='role') | join(',') }}", "user,assistant,user")]
    [InlineData("{{ messages | selectattr('role', 'equalto', 'user') | list | length }}", "2")]
    [InlineData("{% for m in messages[::-1] %}{{ m.role[0] }}{% endfor %}", "uaus")]
    [InlineData("{{ messages[::1000000000000] | length }}{{ messages[-100000000000:2] | length }}{{ 'abc'[::-1] }}", "12cba")]
    [InlineData("{{ 'a,b,,c'.split(',') | length }}{{ '  x  y '.split() | join('+') }}{{ 'abc'.replace('b', 'X') }}", "4x+yaXc")]
    [InlineData("{{ 'xxhixx'.strip('x') }}|{{ '\n\nhi\n'.lstrip('\n') }}|{{ '  hi  '.rstrip() }}|", "hi|hi\n|  hi|")]
    [InlineData("{%- for i in range(3) -%}\n  {{ i }}\n{%- endfor %}", "012")]
    [InlineData("  {% if true %}\nyes\n  {% endif %}\nafter", "yes\nafter")]
    [InlineData("{# a comment #}{{- '  x' -}}   {{ 'y' }}", "  xy")]
    [InlineData("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }}", "Hi Ann! Hi Bo?")]
    [InlineData("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", "a=1;b=2;")]
    [InlineData("{% for m in messages if m.role == 'user' %}{{ m.content }}{% else %}none{% endfor %}", "HiBye")]
    [InlineData("{% for m in [] %}x{% else %}empty{% endfor %}", "empty")]
    [InlineData("{% for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{% if i == 1 %}{% continue %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 10 / 4 }} {{ -3 // 2 }} {{ 12345678901234567890 }} {{ 0.000001 }} {{ 1000000000000000000000 }}", "1.0 0.30000000000000004 2.5 -2 12345678901234567000 0.000001 1e+21")]
    [InlineData("{{ messages[0].content | default('d') }}{{ missing | default('d') }}{{ '' | default('e', true) }}", "Be brief.de")]
    [InlineData("{{ 'Ab' * 1 if false else ('Ab' | upper) }}{{ [3, 1, 2] | sort | join('') }}{{ ['b', 'A', 'c'] | sort | join('') }}", "AB123Abc")]
    public void Render_SupportsTheTemplateFeaturesChatTemplatesUse(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    // Expected outputs are Jinja2 3.1.6's (with the loopcontrols extension), the engine transformers renders chat
    // templates with: what an iteration wrote before its break or continue is kept; what a filter or set block wrote
    // before it is dropped (the block never ends); an iteration left by break or continue does not count for the
    // loop's else block, a completed one does.
    [Theory]
    [InlineData("{% for x in xs %}a{% if x == 2 %}{% break %}{% endif %}b{% endfor %}", "aba")]
    [InlineData("{% for x in xs %}a{{ x }}{% if x == 2 %}c{% continue %}{% endif %}b{% endfor %}", "a1ba2ca3b")]
    [InlineData("{% for x in xs %}{% if x == 1 %}{% if true %}p{{ x }}{% continue %}{% endif %}{% endif %}q{% endfor %}", "p1qq")]
    [InlineData("{% for x in xs %}{% for y in xs %}{{ x }}{{ y }}{% if y == 2 %}{% break %}{% endif %}{% endfor %}|{% if x == 2 %}{% continue %}{% endif %}-{% endfor %}", "1112|-2122|3132|-")]
    [InlineData("{% for x in xs %}<{% filter upper %}a{% if x == 2 %}{% break %}{% endif %}{% endfilter %}>{% endfor %}", "<A><")]
    [InlineData("{% for x in xs %}{% set v %}a{% if x == 2 %}{% break %}{% endif %}{% endset %}{{ v }}{% endfor %}", "a")]
    [InlineData("{% for x in xs %}{% continue %}{% else %}E{% endfor %}", "E")]
    [InlineData("{% for x in xs %}{% break %}{% else %}E{% endfor %}", "E")]
    [InlineData("{% for x in xs %}a{% if x == 2 %}{% break %}{% endif %}{% else %}E{% endfor %}", "aa")]
    public void Render_BreakAndContinue_KeepWhatTheIterationWrote_AsJinja2Does(string template, string expected)
    {
        Assert.Equal(expected, Render("{% set xs = [1, 2, 3] %}" + template));
    }

    [Fact]
    public void Render_PassesAddGenerationPrompt()
    {
        const string template = "{% if add_generation_prompt %}go{% else %}stop{% endif %}";

        Assert.Equal("go", Render(template, addGenerationPrompt: true));
        Assert.Equal("stop", Render(template, addGenerationPrompt: false));
    }

    [Fact]
    public void Render_RaiseException_IsATemplateRaisedError_WithTheTemplatesMessage()
    {
        TokenizerException e = Assert.Throws<TokenizerException>(() =>
            Render("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"));

        Assert.Equal(TokenizerError.TemplateRaised, e.Reason);
        Assert.Contains("System role not supported", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_StrftimeNow_ReadsTheInjectedClock()
    {
        var clock = new FixedTimeProvider(new DateTimeOffset(2025, 3, 7, 9, 5, 0, TimeSpan.Zero));

        Assert.Equal("07 Mar 2025 09:05 March 2025-03-07 %", Render("{{ strftime_now('%d %b %Y %H:%M %B %Y-%m-%d %%') }}", time: clock));
    }

    [Theory]
    [InlineData("{% for m in messages %}{{ m.content }}")]
    [InlineData("{% if true %}x{% endfor %}")]
    [InlineData("{{ messages[0] ")]
    [InlineData("{{ 'unterminated }}")]
    [InlineData("{% frobnicate %}")]
    [InlineData("{{ 1 + }}")]
    [InlineData("{% set %}")]
    [InlineData("{{ a b }}")]
    [InlineData("{{ 'bad escape \\q' }}")]
    [InlineData("{# never closed")]
    [InlineData("{% continue %}")]                                                                            // fuzz finding 12: thrown through the render
    [InlineData("x{% if true %}{% break %}{% endif %}")]
    [InlineData("{% for m in messages %}{% else %}{% break %}{% endfor %}")]                                  // the else block is not the loop
    [InlineData("{% for m in messages %}{% macro f() %}{% continue %}{% endmacro %}{{ f() }}{% endfor %}")]  // a macro runs where it is called
    [InlineData("{% macro f() %}{{ caller() }}{% endmacro %}{% for m in messages %}{% call f() %}{% break %}{% endcall %}{% endfor %}")]
    public void Parse_RejectsSyntaxErrors(string template)
    {
        TokenizerException e = Assert.Throws<TokenizerException>(() => JinjaChatTemplate.Parse(template));

        Assert.Equal(TokenizerError.TemplateSyntax, e.Reason);
        Assert.StartsWith("chat template rejected: syntax error", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_StopsARunawayLoop_AtTheIterationLimit()
    {
        const string template = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}x{% endfor %}{% endfor %}{% endfor %}";

        TokenizerException e = Assert.Throws<TokenizerException>(() => Render(template, limits: new ChatTemplateLimits { MaxLoopIterations = 10_000 }));

        Assert.Equal(TokenizerError.TemplateLimitExceeded, e.Reason);
        Assert.Contains("MaxLoopIterations", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_StopsExponentialStringGrowth_AtTheOutputLimit()
    {
        const string template = "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}";

        TokenizerException e = Assert.Throws<TokenizerException>(() => Render(template, limits: new ChatTemplateLimits { MaxOutputChars = 1 << 20 }));

        Assert.Equal(TokenizerError.TemplateLimitExceeded, e.Reason);
        Assert.Contains("MaxOutputChars", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_StopsUnboundedMacroRecursion()
    {
        const string template = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}";

        TokenizerException e = Assert.Throws<TokenizerException>(() => Render(template));

        Assert.Equal(TokenizerError.TemplateLimitExceeded, e.Reason);
    }

    [Fact]
    public void Parse_RejectsTooDeepNesting_AndTooLongTemplates()
    {
        string deep = "{{ " + new string('(', 5000) + "1" + new string(')', 5000) + " }}";

        Assert.Equal(TokenizerError.TemplateLimitExceeded, Assert.Throws<TokenizerException>(() => JinjaChatTemplate.Parse(deep)).Reason);
        Assert.Equal(
            TokenizerError.TemplateLimitExceeded,
            Assert.Throws<TokenizerException>(() => JinjaChatTemplate.Parse("x", limits: new ChatTemplateLimits { MaxTemplateChars = 0 })).Reason);
    }

    [Theory]
    [InlineData("{{ messages + 1 }}")]
    [InlineData("{{ undefined_var + 1 }}")]
    [InlineData("{{ messages | no_such_filter }}")]
    [InlineData("{{ 'x' is no_such_test }}")]
    [InlineData("{% for c in 'abc' %}{{ c }}{% endfor %}")]
    [InlineData("{{ none.x.y + 1 }}")]
    [InlineData("{{ not_a_function() }}")]
    [InlineData("{{ messages | selectattr() }}")]
    public void Render_ReportsRuntimeErrors_AsTemplateRuntime(string template)
    {
        TokenizerException e = Assert.Throws<TokenizerException>(() => Render(template));

        Assert.Equal(TokenizerError.TemplateRuntime, e.Reason);
        Assert.StartsWith("chat template failed while rendering", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_IsThreadSafe()
    {
        JinjaChatTemplate template = JinjaChatTemplate.Parse("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}");

        Parallel.For(0, 100, i =>
            Assert.Equal($"user:{i};", template.Render([new ChatMessage("user", i.ToString(System.Globalization.CultureInfo.InvariantCulture))], false)));
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;

        public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
    }
}
