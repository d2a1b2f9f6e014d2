namespace Enclave.Fuzz;

/// <summary>
/// One fuzz target: <see cref="Run"/> feeds the bytes to a parser of untrusted input and swallows only the
/// parser's documented rejection; any other exception, a hang or a crash escapes and is what afl++ reports.
/// <see cref="Seeds"/> are valid (and a few invalid) inputs written with the producers the product itself uses.
/// </summary>
internal sealed record Harness
{
    public required string Name { get; init; }

    public required string Parser { get; init; }

    public required Action<byte[]> Run { get; init; }

    public required Func<IEnumerable<(string Name, byte[] Bytes)>> Seeds { get; init; }
}
