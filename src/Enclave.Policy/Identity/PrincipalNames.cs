using System.Diagnostics.CodeAnalysis;

namespace Enclave.Policy.Identity;

/// <summary>
/// Names and IDs of principals. A name is 1 to 64 characters of lower-case ASCII letters, digits and
/// <c>. _ - @</c>, starting with a letter or digit (so that an e-mail style SSO user name fits). The ID, the ledger
/// actor, is the kind's prefix and the name: <c>user:alice</c>, <c>service:ci-pipeline</c>. Principals that
/// authenticated with an OIDC token and are not in the directory get <c>oidc:&lt;sub&gt;</c>.
/// </summary>
public static class PrincipalNames
{
    /// <summary>Longest principal name.</summary>
    public const int MaxLength = 64;

    /// <summary>ID prefix of users.</summary>
    public const string UserPrefix = "user:";

    /// <summary>ID prefix of service accounts.</summary>
    public const string ServicePrefix = "service:";

    /// <summary>ID prefix of single sign-on principals not in the directory (<c>oidc:&lt;sub&gt;</c>).</summary>
    public const string OidcPrefix = "oidc:";

    /// <summary>Whether <paramref name="name"/> is a valid principal name.</summary>
    public static bool IsValid([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || !char.IsAsciiLetterLower(name[0]) && !char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c) && c is not ('.' or '_' or '-' or '@'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The principal ID of a directory principal.</summary>
    public static string IdOf(PrincipalKind kind, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return (kind == PrincipalKind.Service ? ServicePrefix : UserPrefix) + name;
    }

    /// <summary>Splits a directory principal ID (<c>user:alice</c>) into kind and name; false for anything else.</summary>
    public static bool TryParseId(string? id, out PrincipalKind kind, [NotNullWhen(true)] out string? name)
    {
        kind = PrincipalKind.User;
        name = null;
        if (id is null)
        {
            return false;
        }

        if (id.StartsWith(UserPrefix, StringComparison.Ordinal))
        {
            name = id[UserPrefix.Length..];
        }
        else if (id.StartsWith(ServicePrefix, StringComparison.Ordinal))
        {
            kind = PrincipalKind.Service;
            name = id[ServicePrefix.Length..];
        }

        if (!IsValid(name))
        {
            name = null;
            return false;
        }

        return true;
    }

    /// <summary>The kind's word in the admin API and the CLI (<c>user</c>, <c>service</c>).</summary>
    public static string KindName(PrincipalKind kind) => kind == PrincipalKind.Service ? "service" : "user";

    /// <summary>Parses <c>user</c> or <c>service</c>.</summary>
    public static bool TryParseKind(string? text, out PrincipalKind kind)
    {
        kind = text == "service" ? PrincipalKind.Service : PrincipalKind.User;
        return text is "user" or "service";
    }
}
