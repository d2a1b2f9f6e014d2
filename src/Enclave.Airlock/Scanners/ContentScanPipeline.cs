namespace Enclave.Airlock.Scanners;

/// <summary>Runs every scanner that applies on each quarantined file and collects all findings.</summary>
public sealed class ContentScanPipeline
{
    private readonly IReadOnlyList<IContentScanner> _scanners;

    public ContentScanPipeline(IEnumerable<IContentScanner> scanners)
    {
        ArgumentNullException.ThrowIfNull(scanners);
        _scanners = [.. scanners];
    }

    /// <summary>The pickle, ONNX, safetensors and GGUF scanners plus a deny-list.</summary>
    public static ContentScanPipeline CreateDefault(DigestDenyListScanner denyList, ContentScanOptions? options = null) =>
        new([new PickleScanner(options), new OnnxScanner(options), new SafetensorsScanner(options), new GgufScanner(options), denyList]);

    /// <summary>The names of the scanners that apply to <paramref name="path"/>; one that cannot read it says so by applying.</summary>
    public IReadOnlyList<string> ScannersFor(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var names = new List<string>();
        foreach (var scanner in _scanners)
        {
            try
            {
                if (scanner.Applies(path))
                {
                    names.Add(scanner.Name);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The scan at import would have reported it unreadable (and refused the import): count it as applying.
                names.Add(scanner.Name);
            }
        }

        return names;
    }

    /// <summary>Scans the files; the result lists every scanner's result for every file it applied to.</summary>
    public IReadOnlyList<ScanResult> Scan(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new List<ScanResult>();
        foreach (var path in paths)
        {
            foreach (var scanner in _scanners)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    if (scanner.Applies(path))
                    {
                        results.Add(scanner.Scan(path, cancellationToken));
                    }
                }
                catch (IOException e)
                {
                    results.Add(Unreadable(scanner, path, e));
                }
                catch (UnauthorizedAccessException e)
                {
                    results.Add(Unreadable(scanner, path, e));
                }
            }
        }

        return results;
    }

    // Fail closed: a file a scanner cannot read is a file it has not cleared.
    private static ScanResult Unreadable(IContentScanner scanner, string path, Exception e) =>
        ScanResult.Of(scanner.Name, path, [$"{path}: could not be read by the {scanner.Name} scanner ({e.GetType().Name}: {e.Message}); refused"]);
}
