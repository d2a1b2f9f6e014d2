using Enclave.Cli;

return await EnclaveCli.RunAsync(args, CliContext.FromConsole()).ConfigureAwait(false);
