using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Enclave.Cli.Sbom;

namespace Enclave.Cli.Commands;

/// <summary><c>enclave version [--sbom]</c>: the release, and with <c>--sbom</c> its CycloneDX 1.6 SBOM.</summary>
internal static class VersionCommand
{
    public static Command Create(CliContext context)
    {
        var sbom = new Option<bool>("--sbom") { Description = "Print Enclave's own SBOM (CycloneDX 1.6 JSON: every package of its build's dependency graph and the .NET runtime), the one the enclave's vulnerability inventory holds as 'enclave'." };
        var output = new Option<string?>("--output") { Description = "With --sbom: write the SBOM to this file instead of standard output." };
        var json = TrustCommands.JsonOption();
        var command = new Command("version", "Show Enclave's version, and with --sbom its software bill of materials.") { sbom, output, json };
        command.SetAction((result, _) => CommandRunner.RunAsync(context, result.GetValue(json), async () =>
        {
            if (result.GetValue(sbom))
            {
                var current = EnclaveSbomGenerator.Current()
                    ?? throw new FileNotFoundException("enclave.deps.json is not beside the enclave binary, so its dependency graph is unknown; reinstall the release (the file is part of it)");
                if (result.GetValue(output) is { } path)
                {
                    await File.WriteAllBytesAsync(path, current.Document).ConfigureAwait(false);
                    await context.Error.WriteLineAsync($"wrote the CycloneDX 1.6 SBOM of enclave {current.Version} to {path}").ConfigureAwait(false);
                }
                else
                {
                    await context.Out.WriteAsync(System.Text.Encoding.UTF8.GetString(current.Document)).ConfigureAwait(false);
                }

                return ExitCode.Success;
            }

            if (result.GetValue(json))
            {
                await CommandRunner.WriteJsonAsync(context, new JsonObject { ["version"] = EnclaveSbomGenerator.Version, ["runtime"] = Environment.Version.ToString(), ["rid"] = RuntimeInformation.RuntimeIdentifier }).ConfigureAwait(false);
            }
            else
            {
                await context.Out.WriteLineAsync($"enclave {EnclaveSbomGenerator.Version} (.NET {Environment.Version}, {RuntimeInformation.RuntimeIdentifier})").ConfigureAwait(false);
            }

            return ExitCode.Success;
        }));
        return command;
    }
}
