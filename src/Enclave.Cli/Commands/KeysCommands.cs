using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Enclave.Cli.Admin;
using Enclave.Core.Audit;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave keys ...</c>: API keys of users and service accounts, through the server's admin API.</summary>
internal static class KeysCommands
{
    public static Command Create(CliContext context)
    {
        var keys = new Command("keys", "API keys: create (shown once), list, revoke (calls the server's admin API).");
        keys.Subcommands.Add(CreateKey(context));
        keys.Subcommands.Add(List(context));
        keys.Subcommands.Add(Revoke(context));
        return keys;
    }

    private static Command CreateKey(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var user = new Option<string>("--user") { Description = "The user or service account the key authenticates as.", Required = true };
        var name = new Option<string>("--name") { Description = "A label for the key, e.g. \"grafana scraper\"." };
        var expires = new Option<string>("--expires")
        {
            Description = "When the key stops working: a duration (90d, 12h, 30m, 2w) from now, a date (2027-01-31, 00:00 UTC) or an RFC 3339 time.",
        };
        var json = new Option<bool>("--json") { Description = "Print the key and its record as one JSON object." };
        var command = new Command("create", "Create an API key and print it once (it cannot be shown again).") { user, name, expires, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            DateTimeOffset? expiry = result.GetValue(expires) is { } text ? ParseExpiry(text, context.Clock.GetUtcNow()) : null;
            using var client = connection.CreateClient(result);
            var body = new JsonObject
            {
                ["user"] = result.GetValue(user),
                ["name"] = result.GetValue(name),
                ["expires"] = expiry is { } e ? AuditEvent.FormatTime(e) : null,
            };
            var created = (await client.PostAsync("keys", body, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, created).ConfigureAwait(false);
            }
            else
            {
                // The key alone on standard output, so that `enclave keys create ... > file` captures just the key.
                await context.Out.WriteLineAsync(created["key"]!.GetValue<string>()).ConfigureAwait(false);
                var until = created["expires"] is { } x ? "until " + x.GetValue<string>() : "with no expiry";
                await context.Error.WriteLineAsync($"API key {created["id"]} for {created["principal"]} created, valid {until}; it is shown this once, store it now").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    private static Command List(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var user = new Option<string>("--user") { Description = "Only this principal's keys (non-admins see only their own)." };
        var json = new Option<bool>("--json") { Description = "Print {\"keys\":[...]} for scripts." };
        var command = new Command("list", "List API keys (never their secrets): all for an admin, your own otherwise.") { user, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            using var client = connection.CreateClient(result);
            var path = result.GetValue(user) is { } owner ? "keys?user=" + Uri.EscapeDataString(owner) : "keys";
            var answer = (await client.GetAsync(path, ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, answer).ConfigureAwait(false);
                return ExitCode.Success;
            }

            var rows = answer["keys"]!.AsArray().Select(k => k!.AsObject()).Select(k => new[]
            {
                k["id"]!.GetValue<string>(),
                k["principal"]!.GetValue<string>(),
                k["status"]!.GetValue<string>(),
                k["expires"]?.GetValue<string>() ?? "never",
                k["name"]!.GetValue<string>(),
            }).ToList();
            await context.Out.WriteAsync(UsersCommands.Table(["ID", "PRINCIPAL", "STATUS", "EXPIRES", "NAME"], rows)).ConfigureAwait(false);
            return ExitCode.Success;
        }));
        return command;
    }

    private static Command Revoke(CliContext context)
    {
        var connection = new AdminConnectionOptions();
        var id = new Argument<string>("ID") { Description = "The key's ID: 12 hexadecimal digits, as 'keys list' shows (with or without 'ek_')." };
        var json = new Option<bool>("--json") { Description = "Print the revoked key's record as one JSON object." };
        var command = new Command("revoke", "Revoke an API key: it is refused from the next request on.") { id, json };
        connection.AddTo(command);
        command.SetAction((result, ct) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            var keyId = result.GetValue(id)!.Trim();
            if (keyId.StartsWith("ek_", StringComparison.Ordinal) && keyId.Length > 15)
            {
                // A whole key was pasted: use its ID, and never send the secret anywhere.
                keyId = keyId[..15];
            }

            using var client = connection.CreateClient(result);
            var revoked = (await client.DeleteAsync("keys/" + Uri.EscapeDataString(keyId), ct).ConfigureAwait(false))!.AsObject();
            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, revoked).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"revoked API key {revoked["id"]} of {revoked["principal"]}").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }

    /// <summary>
    /// An expiry from the command line: a duration from <paramref name="now"/> (<c>90d</c>, <c>12h</c>, <c>30m</c>,
    /// <c>2w</c>), a date (<c>2027-01-31</c>, meaning 00:00 UTC) or an RFC 3339 time.
    /// </summary>
    /// <exception cref="ArgumentException">None of those, or not in the future.</exception>
    internal static DateTimeOffset ParseExpiry(string text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = text.Trim();
        DateTimeOffset expiry;
        if (text.Length is >= 2 and <= 10 && char.IsAsciiLetterLower(text[^1])
            && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            var unit = text[^1] switch
            {
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                'd' => TimeSpan.FromDays(1),
                'w' => TimeSpan.FromDays(7),
                _ => throw new ArgumentException($"--expires '{text}': the unit must be m, h, d or w (minutes, hours, days, weeks)"),
            };
            if (amount > TimeSpan.FromDays(100 * 366) / unit)
            {
                throw new ArgumentException($"--expires '{text}' is more than 100 years away");
            }

            expiry = now + amount * unit;
        }
        else if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            expiry = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        else if (text.Contains('T', StringComparison.Ordinal)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            expiry = time;
        }
        else
        {
            throw new ArgumentException($"--expires '{text}' is neither a duration (90d, 12h, 30m, 2w), a date (2027-01-31) nor an RFC 3339 time (2027-01-31T12:00:00Z)");
        }

        return expiry > now ? expiry : throw new ArgumentException($"--expires '{text}' ({AuditEvent.FormatTime(expiry)}) is not in the future");
    }
}
