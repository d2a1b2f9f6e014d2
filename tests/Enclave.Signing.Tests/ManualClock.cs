namespace Enclave.Signing.Tests;

/// <summary>
/// A clock that reads a set time. (Microsoft.Extensions.TimeProvider.Testing's FakeTimeProvider is pinned at
/// 10.0.0 in Directory.Packages.props, which the package source here does not have.)
/// </summary>
internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
