using System.Security.Claims;
using Enclave.OperatorConsole.Backend;
using Enclave.OperatorConsole.Hosting;
using Enclave.OperatorConsole.Live;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Logging;

namespace Enclave.OperatorConsole.Components.Live;

/// <summary>
/// A live part of a console page: rendered with the page (static server rendering, so the page is whole without
/// script), then kept up to date by an Interactive Server circuit. It subscribes to <see cref="ConsoleLiveUpdates"/>,
/// and when its <see cref="Topics"/> change it first checks its circuit's principal again
/// (<see cref="ConsoleServices.Revalidate"/>: a revoked key, an expired one or a disabled principal, or roles that no
/// longer open the page, end it), then reloads what it shows (<see cref="Load"/>) from the in-process stores. A part
/// whose session ended shows that it is signed out, shows nothing else, and stops updating. A session also ends when its
/// idle timeout passes: the circuit's connection never extends it (only pages and forms do), so a part ends itself at the
/// session's expiry as its hub connection knew it (<see cref="ConsoleServices.SessionExpiresClaim"/>), whatever arrives
/// after.
/// </summary>
public abstract partial class LivePart : ComponentBase, IDisposable
{
    // A timer's longest due time (about 49 days; a session's idle timeout is at most 12 hours).
    private static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);
    private IDisposable? _subscription;
    private ITimer? _expiry;
    private DateTimeOffset _expires = DateTimeOffset.MaxValue;
    private bool _disposed;

    [Inject]
    private ConsoleLiveUpdates Updates { get; set; } = null!;

    [Inject]
    private IConsoleBackend Backend { get; set; } = null!;

    [Inject]
    private AuthenticationStateProvider Authentication { get; set; } = null!;

    [Inject]
    private ILogger<LivePart> Logger { get; set; } = null!;

    [Inject]
    private TimeProvider Clock { get; set; } = null!;

    /// <summary>The signed-in principal, as of the last check.</summary>
    protected ClaimsPrincipal User { get; private set; } = new();

    /// <summary>Whether the session ended while the page was open: the part shows only that.</summary>
    protected bool SignedOut { get; private set; }

    /// <summary>Whether the part is connected and updates itself (false while the page is rendered on the server).</summary>
    protected bool Connected => _subscription is not null && !SignedOut;

    /// <summary>What the part shows; a change of <see cref="LiveTopics.Identity"/> always makes it check its principal.</summary>
    protected abstract LiveTopics Topics { get; }

    /// <summary>The roles (comma-separated, as <see cref="ConsoleRoles"/>) that may see the part; null for any signed-in principal.</summary>
    protected abstract string? Roles { get; }

    /// <summary>Reads what the part shows for <see cref="User"/>.</summary>
    protected abstract void Load();

    /// <summary>
    /// Raised by the page after an action of its own form (approve, reject) so that the part reads again. A form post
    /// renders the page once to find the form's handler and again after it ran; without this the part kept what it
    /// read in the first render (before the action) until its connection replaced it.
    /// </summary>
    [Parameter]
    public int Revision { get; set; }

    private bool _initialized;
    private int _loadedRevision;

    /// <inheritdoc/>
    protected override async Task OnInitializedAsync()
    {
        User = (await Authentication.GetAuthenticationStateAsync().ConfigureAwait(true)).User;
        Load();
        _loadedRevision = Revision;
        _initialized = true;
        if (RendererInfo.IsInteractive)
        {
            // When the session ends unless the person acts (the cookie's expiry when the circuit connected); a circuit
            // without it is not a console session's (fail closed: signed out at once).
            _expires = long.TryParse(User.FindFirst(ConsoleServices.SessionExpiresClaim)?.Value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)
                ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
                : DateTimeOffset.MinValue;
            var left = _expires - Clock.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                End("the session's idle timeout passed");
                return;
            }

            _subscription = Updates.Subscribe(OnChanged);
            _expiry = Clock.CreateTimer(_ => _ = ExpireAsync(), null, left < MaxTimer ? left : MaxTimer, Timeout.InfiniteTimeSpan);
        }
    }

    /// <inheritdoc/>
    protected override void OnParametersSet()
    {
        if (_initialized && !SignedOut && Revision != _loadedRevision)
        {
            _loadedRevision = Revision;
            Load();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _disposed = true;
        _subscription?.Dispose();
        _expiry?.Dispose();
        GC.SuppressFinalize(this);
    }

    private void OnChanged(LiveTopics topics)
    {
        if ((topics & (Topics | LiveTopics.Identity)) != LiveTopics.None && !_disposed)
        {
            _ = UpdateAsync();
        }
    }

    private async Task UpdateAsync() => await RunAsync(Update).ConfigureAwait(true);

    private async Task ExpireAsync() => await RunAsync(() =>
    {
        if (!_disposed && !SignedOut)
        {
            End("the session's idle timeout passed");
            StateHasChanged();
        }
    }).ConfigureAwait(true);

    private async Task RunAsync(Action action)
    {
        try
        {
            await InvokeAsync(action).ConfigureAwait(true);
        }
#pragma warning disable CA1031 // a failed reload fails this page's circuit (Blazor's error handling), never the feed that called it
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await DispatchExceptionAsync(ex).ConfigureAwait(true);
        }
    }

    private void Update()
    {
        if (_disposed || SignedOut)
        {
            return;
        }

        var current = Clock.GetUtcNow() >= _expires ? null : ConsoleServices.Revalidate(Backend, User);
        if (Clock.GetUtcNow() >= _expires)
        {
            End("the session's idle timeout passed");
        }
        else if (current is null || (Roles is { } roles && !ConsoleRoles.Allows(current, roles)))
        {
            End(current is null ? "the session is no longer valid" : "its roles no longer open the page");
        }
        else
        {
            User = current;
            Load();
        }

        StateHasChanged();
    }

    /// <summary>Ends the part: it shows that it is signed out, and stops updating.</summary>
    private void End(string reason)
    {
        SignedOut = true;
        _subscription?.Dispose();
        _expiry?.Dispose();
        LogSessionEnded(Logger, GetType().Name, User.Identity?.Name ?? "unknown", reason);
    }

    [LoggerMessage(EventId = 10503, Level = LogLevel.Information, Message = "a console page's live part {Part} of {Principal} stopped updating: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, string part, string principal, string reason);
}
