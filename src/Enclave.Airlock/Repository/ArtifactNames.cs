using System.Text;

namespace Enclave.Airlock.Repository;

/// <summary>
/// The naming rules of bundle format v1: target paths <c>KIND/NAME/VERSION/FILE</c> (FILE of one or two segments),
/// UTF-8, no <c>..</c>, no leading <c>/</c>, no backslash, no NUL or control characters, at most 255 bytes a segment.
/// </summary>
internal static class ArtifactNames
{
    /// <summary>The folder of an artifact's attestations.</summary>
    public const string AttestationsFolder = ".attestations";

    /// <summary>The longest target path, so that <c>targets/PATH</c> fits the reader's 1024-byte entry names.</summary>
    public const int MaxPathBytes = 1024 - 8;

    private const int MaxSegmentBytes = 255;
    private const int MaxLabelLength = 512;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static void CheckKind(string kind)
    {
        if (!RepositoryMetadata.Kinds.Contains(kind))
        {
            throw Invalid($"kind \"{kind}\" is not one of {string.Join(", ", RepositoryMetadata.Kinds)}");
        }
    }

    /// <summary>Checks one path segment (a name, a version, a file or folder name).</summary>
    public static void CheckSegment(string segment, string what)
    {
        if (segment.Length == 0 || segment is "." or "..")
        {
            throw Invalid($"{what} \"{segment}\" is empty, \".\" or \"..\"");
        }

        foreach (var c in segment)
        {
            if (c is '/' or '\\' || char.IsControl(c))
            {
                throw Invalid($"{what} \"{Printable(segment)}\" contains a slash, a backslash or a control character");
            }
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(segment);
        }
        catch (EncoderFallbackException e)
        {
            throw new TrustRepositoryException(TrustRepositoryError.InvalidArgument, $"{what} \"{Printable(segment)}\" is not valid Unicode", e);
        }

        if (bytes > MaxSegmentBytes)
        {
            throw Invalid($"{what} \"{segment[..20]}…\" is {bytes} bytes in UTF-8; at most {MaxSegmentBytes}");
        }
    }

    /// <summary>Checks a path of segments relative to the artifact folder and returns it with '/' separators.</summary>
    public static string CheckRelative(IReadOnlyList<string> segments, string source)
    {
        if (segments.Count > 2)
        {
            throw Invalid($"{source} lies {segments.Count - 1} folders deep inside its source; bundle targets may sit at most one folder below the artifact ({{kind}}/{{name}}/{{version}}/DIR/FILE, as the kind role's delegation paths allow)");
        }

        foreach (var segment in segments)
        {
            CheckSegment(segment, $"file name in {source}");
        }

        if (segments[0] == AttestationsFolder)
        {
            throw Invalid($"{source}: the folder {AttestationsFolder} is reserved for --sbom and --provenance");
        }

        return string.Join('/', segments);
    }

    public static string TargetPath(string kind, string name, string version, string relative)
    {
        var path = $"{kind}/{name}/{version}/{relative}";
        if (Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            throw Invalid($"target path {path[..40]}… is longer than {MaxPathBytes} bytes");
        }

        return path;
    }

    /// <summary>A marking such as <c>UNCLASSIFIED</c> or <c>SECRET//SI//REL TO USA, GBR</c>; the enclave checks it against its scheme.</summary>
    public static void CheckLabel(string label)
    {
        if (label.Length == 0 || label.Length > MaxLabelLength || !char.IsAsciiLetterOrDigit(label[0])
            || label.Any(c => !(char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c is ' ' or '/' or ',' or '(' or ')' or '-')))
        {
            throw Invalid($"label \"{Printable(label)}\" is not a marking: use upper-case letters, digits, spaces and / , ( ) -, e.g. UNCLASSIFIED or SECRET//REL TO USA, GBR");
        }
    }

    private static string Printable(string s) => string.Concat(s.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));

    private static TrustRepositoryException Invalid(string message) => new(TrustRepositoryError.InvalidArgument, message);
}
