using System.CommandLine;
using System.Text;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Policy.Identity;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave users ...</c>: users and service accounts, through the server's admin API (admin role).</summary>
internal static class UsersCommands
{
    public static Command Create(CliContext context)
    {
        var users = new Command("users", "Users and service accounts: roles, clearance, disabling (calls the server's admin API).");
        users.Subcommands.Add(Add(context));
        users.Subcommands.Add(List(context));
        users.Subcommands.Add(Disable(context));
        users.Subcommands.Add(Update(context));
        return users;
    }

    private static Command Update(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var name = new Argument<string>("NAME") { Description = "The user or service account." };
        var roles = new Option<string[]>("--role") { Description = $"The complete new list of roles (repeatable): {string.Join(", ", Roles.All)}." };
        roles.AcceptOnlyFromAmong([.. Roles.All]);
        var noRoles = new Option<bool>("--no-roles") { Description = "Remove every role." };
        var clearance = new Option<string>("--clearance") { Description = "The new clearance as a banner marking; \"\" for the lowest level." };
        var json = new Option<bool>("--json") { Description = "Print the user as one JSON object." };
        var command = new Command("update", "Change a user's or service account's roles and/or clearance (recorded as user.updated; effective from the next request).") { name, roles, noRoles, clearance, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var body = new JsonObject();
            if (result.GetValue(noRoles))
            {
                body["roles"] = new JsonArray();
            }
            else if (result.GetValue(roles) is { Length: > 0 } given)
            {
                body["roles"] = new JsonArray([.. given.Select(r => (JsonNode)r)]);
            }

            if (result.GetValue(clearance) is { } c)
            {
                body["clearance"] = c;
            }

            if (body.Count == 0)
            {
                await context.Error.WriteLineAsync("nothing to change: give --role (repeatable), --no-roles and/or --clearance").ConfigureAwait(false);
                return ExitCode.Usage;
            }

            using var client = connection.CreateClient(result);
            var updated = (await client.PatchAsync($"users/{Uri.EscapeDataString(result.GetValue(name)!)}", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, updated).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"updated {updated["id"]} (roles: {RoleList(updated)}; clearance: {Clearance(updated)})").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Add(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var name = new Argument<string>("NAME") { Description = "Lower-case letters, digits, '.', '_', '-', '@' (at most 64)." };
        var roles = new Option<string[]>("--role")
        {
            Description = $"A role (repeatable): {string.Join(", ", Roles.All)}.",
            AllowMultipleArgumentsPerToken = false,
        };
        roles.AcceptOnlyFromAmong([.. Roles.All]);
        var clearance = new Option<string>("--clearance") { Description = "Clearance as a banner marking, e.g. \"SECRET//REL TO USA, GBR\" (default: the lowest level)." };
        var service = new Option<bool>("--service") { Description = "A service account (software) rather than a person." };
        var json = new Option<bool>("--json") { Description = "Print the user as one JSON object." };
        var command = new Command("add", "Add a user or service account.") { name, roles, clearance, service, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var body = new JsonObject
            {
                ["name"] = result.GetValue(name),
                ["kind"] = result.GetValue(service) ? "service" : "user",
                ["roles"] = new JsonArray([.. (result.GetValue(roles) ?? []).Select(r => (JsonNode)r)]),
                ["clearance"] = result.GetValue(clearance),
            };
            var added = (await client.PostAsync("users", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, added).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"added {added["kind"]} {added["id"]} (roles: {RoleList(added)}; clearance: {Clearance(added)})").ConfigureAwait(false);
                await context.Error.WriteLineAsync($"create its key with: enclave keys create --user {added["name"]}").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command List(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print {\"users\":[...]} for scripts." };
        var command = new Command("list", "List users and service accounts.") { json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var answer = (await client.GetAsync("users", ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var rows = answer["users"]!.AsArray().Select(u => u!.AsObject()).Select(u => new[]
            {
                u["name"]!.GetValue<string>(),
                u["kind"]!.GetValue<string>(),
                RoleList(u),
                Clearance(u),
                u["disabled"] is null ? "enabled" : "disabled " + u["disabled"]!.GetValue<string>(),
            }).ToList();
            await context.Out.WriteAsync(Table(["NAME", "KIND", "ROLES", "CLEARANCE", "STATUS"], rows)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Disable(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var name = new Argument<string>("NAME") { Description = "The user or service account." };
        var json = new Option<bool>("--json") { Description = "Print the user as one JSON object." };
        var command = new Command("disable", "Disable a user or service account: its keys and tokens are refused from the next request on.") { name, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var disabled = (await client.PostAsync($"users/{Uri.EscapeDataString(result.GetValue(name)!)}/disable", null, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, disabled).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"disabled {disabled["id"]}; its keys and single sign-on tokens are refused").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static string RoleList(JsonObject user) =>
        user["roles"] is JsonArray roles && roles.Count > 0 ? string.Join(",", roles.Select(r => r!.GetValue<string>())) : "-";

    private static string Clearance(JsonObject user) => user["clearance"]?.GetValue<string>() ?? "(lowest)";

    /// <summary>A plain-text table, columns padded to their widest cell.</summary>
    internal static string Table(IReadOnlyList<string> header, IReadOnlyList<string[]> rows)
    {
        var widths = header.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows.Prepend([.. header]))
        {
            text.AppendJoin("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).Append('\n');
        }

        return text.ToString();
    }
}
