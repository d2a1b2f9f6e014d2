namespace Enclave.Intel.Live;

/// <summary>
/// What a request matching a live indicator gets, per kind of indicator (configuration section <c>Intel:Apply</c>):
/// <c>deny</c> (403, <c>request.denied</c> with rule <c>intel</c>, an alert), <c>flag</c> (served, an alert) or
/// <c>off</c> (not looked up).
/// </summary>
public sealed record IntelApplyOptions
{
    /// <summary>The client's address against <c>ipv4-addr</c>/<c>ipv6-addr</c> indicators (addresses and CIDR blocks). Default <c>deny</c>.</summary>
    public string Addresses { get; init; } = "deny";

    /// <summary>The request body's <c>user</c> field against <c>user-account:user_id</c> indicators. Default <c>flag</c>.</summary>
    public string Users { get; init; } = "flag";

    /// <summary>The authenticated principal (its ID and its name) against <c>user-account:user_id</c> indicators. Default <c>flag</c>.</summary>
    public string Principals { get; init; } = "flag";

    /// <summary>Every problem, each naming the setting and what is allowed.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        Check(Addresses, nameof(Addresses));
        Check(Users, nameof(Users));
        Check(Principals, nameof(Principals));
        return problems;

        void Check(string? value, string name)
        {
            if (value is not ("deny" or "flag" or "off"))
            {
                problems.Add($"Intel:Apply:{name} is '{value}'; use deny, flag or off");
            }
        }
    }
}
