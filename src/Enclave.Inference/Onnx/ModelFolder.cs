using System.Text.Json;

namespace Enclave.Inference.Onnx;

/// <summary>Checks shared by the decoder and the embedding model: the folder's files, its JSON, its ONNX graph.</summary>
internal static class ModelFolder
{
    public const string ModelFileName = "model.onnx";

    /// <summary>The absolute folder path, and the model file if it is a regular file (no link) of bounded size.</summary>
    public static (string Directory, string ModelPath) Locate(string directory, OnnxEngineOptions options, List<ModelProblem> problems)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var full = Path.GetFullPath(directory);
        var modelPath = Path.Combine(full, ModelFileName);
        if (!System.IO.Directory.Exists(full))
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MissingFile, $"the folder '{full}' does not exist"));
            return (full, modelPath);
        }

        var info = new FileInfo(modelPath);
        if (!info.Exists)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MissingFile, $"{ModelFileName} is missing"));
        }
        else if (info.LinkTarget is not null)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MissingFile, $"{ModelFileName} is a link; links are refused"));
        }
        else if (info.Length > options.MaxGraphBytes)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.MalformedOnnx, $"{ModelFileName} has {info.Length} bytes, more than the {options.MaxGraphBytes} allowed (keep weights in external data)"));
        }
        else
        {
            problems.AddRange(OnnxExternalDataValidator.Validate(modelPath, full));
        }

        return (full, modelPath);
    }

    /// <summary>A JSON file of the folder, bounded in size and parsed strictly; null (with a problem if required) otherwise.</summary>
    public static JsonDocument? ReadJson(string directory, string name, long maxBytes, bool required, List<ModelProblem> problems)
    {
        var path = Path.Combine(directory, name);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            if (required)
            {
                problems.Add(new ModelProblem(ModelRejectionReason.MissingFile, $"{name} is missing"));
            }

            return null;
        }

        if (info.LinkTarget is not null || info.Length > maxBytes)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{name} is a link or larger than {maxBytes} bytes"));
            return null;
        }

        try
        {
            using var stream = info.OpenRead();
            var document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 32 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document.Dispose();
                problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{name} is not a JSON object"));
                return null;
            }

            if (FindDuplicateKey(document.RootElement) is { } duplicate)
            {
                document.Dispose();
                problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{name} has the key '{duplicate}' twice"));
                return null;
            }

            return document;
        }
        catch (JsonException e)
        {
            problems.Add(new ModelProblem(ModelRejectionReason.InvalidConfig, $"{name} is not valid JSON: {e.Message}"));
            return null;
        }
    }

    private static string? FindDuplicateKey(JsonElement element)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            if (!names.Add(property.Name))
            {
                return property.Name;
            }
        }

        return null;
    }
}
