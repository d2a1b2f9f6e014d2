using System.Text.Json.Nodes;
using Enclave.Inference.Text;
using Enclave.Inference.Tools;

namespace Enclave.Inference.Tests.Tools;

/// <summary>
/// The call parsers of each family on what models write, and on tampered, truncated, duplicate-key and invalid text:
/// what is not a well-formed call to a declared function stays content, never a half-parsed call.
/// </summary>
public sealed class ToolCallFormatsTests
{
    private static readonly HashSet<string> Names = ["get_weather", "now"];

    [Fact]
    public void Hermes_ParsesEveryBlock_AndKeepsTheTextAround()
    {
        var text = "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call>";
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, text, Names);
        Assert.Equal("Let me check.", answer.Content);
        Assert.Collection(
            answer.Calls,
            c => Assert.Equal(("get_weather", "{\"city\":\"Oslo\"}"), (c.Name, c.Arguments)),
            c => Assert.Equal(("now", "{}"), (c.Name, c.Arguments)));
        Assert.NotEqual(answer.Calls[0].Id, answer.Calls[1].Id);
        Assert.All(answer.Calls, c => Assert.Matches("^call_[A-Za-z0-9]{24}$", c.Id));
    }

    [Fact]
    public void Hermes_AnUnclosedLastBlock_IsStillACall()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, "<tool_call>\n{\"name\": \"now\", \"arguments\": {}}", Names);
        Assert.Null(answer.Content);
        Assert.Equal("now", Assert.Single(answer.Calls).Name);
    }

    [Fact]
    public void Hermes_ArgumentsWrittenAsAString_AreTheObjectInside()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, "<tool_call>{\"name\": \"get_weather\", \"arguments\": \"{\\\"city\\\": \\\"Bergen\\\"}\"}</tool_call>", Names);
        Assert.Equal("{\"city\":\"Bergen\"}", Assert.Single(answer.Calls).Arguments);
    }

    [Fact]
    public void Arguments_KeepNonAsciiTextReadable()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, "<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Tromsø\"}}</tool_call>", Names);
        Assert.Equal("{\"city\":\"Tromsø\"}", Assert.Single(answer.Calls).Arguments);
    }

    [Theory]
    [InlineData("<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}</tool_call>")] // truncated JSON
    [InlineData("<tool_call>{\"name\": \"get_weather\", \"name\": \"now\", \"arguments\": {}}</tool_call>")] // duplicate key
    [InlineData("<tool_call>{\"name\": \"rm_rf\", \"arguments\": {}}</tool_call>")] // undeclared function
    [InlineData("<tool_call>{\"name\": \"now\", \"arguments\": [1]}</tool_call>")] // arguments not an object
    [InlineData("<tool_call>{\"name\": \"now\"}</tool_call>")] // no arguments
    [InlineData("<tool_call>{\"name\": \"now\", \"arguments\": {\"a\": \"\\ud800\"}}</tool_call>")] // lone surrogate
    [InlineData("<tool_call>[\"now\"]</tool_call>")]
    [InlineData("<tool_ca")]
    [InlineData("plain text")]
    public void Hermes_WhatIsNotAWellFormedCall_StaysContent(string text)
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, text, Names);
        Assert.Empty(answer.Calls);
        Assert.Equal(text, answer.Content);
    }

    [Fact]
    public void Llama3_TheWholeAnswerIsTheCall()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Llama3Json, "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", Names);
        Assert.Null(answer.Content);
        Assert.Equal(("get_weather", "{\"city\":\"Oslo\"}"), (Assert.Single(answer.Calls).Name, answer.Calls[0].Arguments));
    }

    [Fact]
    public void Llama3_CallsSeparatedBySemicolons_AreParallelCalls()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Llama3Json, "{\"name\": \"now\", \"parameters\": {}}; {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", Names);
        Assert.Equal(["now", "get_weather"], answer.Calls.Select(c => c.Name));
    }

    [Theory]
    [InlineData("The weather is {\"name\": \"now\", \"parameters\": {}}")]
    [InlineData("{\"name\": \"now\", \"parameters\": {}}; and then")]
    [InlineData("{\"temperature\": 21}")]
    public void Llama3_TextThatIsNotOnlyCalls_StaysContent(string text)
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Llama3Json, text, Names);
        Assert.Empty(answer.Calls);
        Assert.Equal(text, answer.Content);
    }

    [Fact]
    public void Mistral_ParsesTheArrayAfterTheMarker()
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Mistral, "[TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}, \"id\": \"abc123def\"}]", Names);
        Assert.Null(answer.Content);
        Assert.Equal(["now", "get_weather"], answer.Calls.Select(c => c.Name));
    }

    [Theory]
    [InlineData("[TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}")]
    [InlineData("[TOOL_CALLS] []")]
    [InlineData("[TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}, {\"name\": \"nope\", \"arguments\": {}}]")]
    [InlineData("[TOOL_CALLS] {\"name\": \"now\", \"arguments\": {}}")]
    public void Mistral_AMalformedOrPartlyUndeclaredArray_StaysContent(string text)
    {
        var answer = ToolCallFormats.Parse(ToolCallFormat.Mistral, text, Names);
        Assert.Empty(answer.Calls);
        Assert.Equal(text, answer.Content);
    }

    [Fact]
    public void Parse_OfAVeryLongAnswer_IsBoundedByTheText()
    {
        var text = string.Concat(Enumerable.Repeat("<tool_call>{\"name\": \"now\", \"arguments\": {}}</tool_call>", 2000));
        var answer = ToolCallFormats.Parse(ToolCallFormat.Hermes, text, Names);
        Assert.Equal(2000, answer.Calls.Count);
    }

    [Theory]
    [InlineData("<tool_call>", ToolCallFormat.Hermes)]
    [InlineData("{{- '[TOOL_CALLS] [' }}", ToolCallFormat.Mistral)]
    [InlineData("<|start_header_id|>ipython<|end_header_id|>", ToolCallFormat.Llama3Json)]
    public void DetectToolCallFormat_ReadsWhatTheTemplateWrites(string source, ToolCallFormat expected) =>
        Assert.Equal(expected, JinjaChatTemplate.DetectToolCallFormat(source));

    [Fact]
    public void DetectToolCallFormat_OfATemplateWithoutTools_IsNull() =>
        Assert.Null(JinjaChatTemplate.DetectToolCallFormat("{% for m in messages %}{{ m.content }}{% endfor %}"));

    [Fact]
    public void CallSchema_ForMistral_IsAnArrayOfOneCallUnlessParallel()
    {
        var functions = new[] { new ToolFunction(0, "now", JsonNode.Parse("{\"type\":\"object\"}")!) };
        Assert.Equal(1, (int)ToolCallFormats.CallSchema(ToolCallFormat.Mistral, functions, parallel: false)["maxItems"]!);
        Assert.Null(ToolCallFormats.CallSchema(ToolCallFormat.Mistral, functions, parallel: true)["maxItems"]);
        Assert.Equal("parameters", ToolCallFormats.CallSchema(ToolCallFormat.Llama3Json, functions, parallel: true)["required"]![1]!.GetValue<string>());
    }
}
