using System.CommandLine;
using Enclave.Cli.Commands;

namespace Enclave.Cli;

/// <summary>The <c>enclave</c> command tree.</summary>
public static class EnclaveCli
{
    public static RootCommand Build(CliContext context)
    {
        var root = new RootCommand("Enclave: sovereign AI for disconnected networks. Serve models offline, bring artifacts across the air gap, prove every action.");
        root.Subcommands.Add(UpCommand.Create(context));
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ModelsCommands.Create(context));
        root.Subcommands.Add(LedgerCommands.Create(context));
        root.Subcommands.Add(RetentionCommands.Create(context));
        root.Subcommands.Add(PolicyCommands.Create(context));
        root.Subcommands.Add(LineageCommand.Create(context));
        root.Subcommands.Add(TrustCommands.Create(context));
        root.Subcommands.Add(BundleCommands.Create(context));
        root.Subcommands.Add(AirlockCommands.Create(context));
        root.Subcommands.Add(TufClientCommand.Create(context));
        root.Subcommands.Add(UsersCommands.Create(context));
        root.Subcommands.Add(KeysCommands.Create(context));
        root.Subcommands.Add(VulnsCommands.Create(context));
        root.Subcommands.Add(UpgradeCommands.Create(context));
        root.Subcommands.Add(IntelCommands.Create(context));
        root.Subcommands.Add(AlertsCommands.Create(context));
        root.Subcommands.Add(DetectionsCommands.Create(context));
        root.Subcommands.Add(StateCommands.Create(context));
        root.Subcommands.Add(VersionCommand.Create(context));
        return root;
    }

    public static async Task<int> RunAsync(string[] args, CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var parse = Build(context).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await context.Error.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await context.Error.WriteLineAsync("run with --help for usage").ConfigureAwait(false);
            return (int)ExitCode.Usage;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = context.Out, Error = context.Error }, cancellationToken).ConfigureAwait(false);
    }
}
