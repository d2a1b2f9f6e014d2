using Enclave.Core;

namespace Enclave.Inference.Onnx;

/// <summary>Why a model folder was refused.</summary>
public enum ModelRejectionReason
{
    /// <summary>A required file is missing or is not a regular file.</summary>
    MissingFile,

    /// <summary><c>config.json</c> (or <c>generation_config.json</c>) is malformed, oversized or out of bounds.</summary>
    InvalidConfig,

    /// <summary>An ONNX tensor's external data points outside the model folder, through a link, or past the file's end.</summary>
    UnsafeExternalData,

    /// <summary><c>model.onnx</c> is not a well-formed ONNX protobuf.</summary>
    MalformedOnnx,

    /// <summary>The graph's inputs and outputs do not match what the config describes, or ONNX Runtime refused it.</summary>
    IncompatibleGraph,
}

/// <summary>One thing wrong with a model folder.</summary>
public sealed record ModelProblem(ModelRejectionReason Reason, string Detail);

/// <summary>
/// A model folder was refused before or while ONNX Runtime loaded it. <see cref="Problems"/> lists everything found,
/// <see cref="Reason"/> is the first problem's reason; nothing of the folder is in use afterwards.
/// </summary>
public sealed class InvalidModelException : Exception, IEnclaveError<ModelRejectionReason>
{
    public InvalidModelException(string directory, IReadOnlyList<ModelProblem> problems, Exception? innerException = null)
        : base(Describe(directory, problems), innerException)
    {
        ArgumentNullException.ThrowIfNull(problems);
        Directory = directory;
        Problems = problems;
    }

    public InvalidModelException()
        : this(string.Empty, [new ModelProblem(ModelRejectionReason.InvalidConfig, "unknown")])
    {
    }

    public InvalidModelException(string message)
        : this(string.Empty, [new ModelProblem(ModelRejectionReason.InvalidConfig, message)])
    {
    }

    public InvalidModelException(string message, Exception innerException)
        : this(string.Empty, [new ModelProblem(ModelRejectionReason.InvalidConfig, message)], innerException)
    {
    }

    /// <summary>The folder that was refused.</summary>
    public string Directory { get; }

    public ModelRejectionReason Reason => Problems[0].Reason;

    public IReadOnlyList<ModelProblem> Problems { get; }

    private static string Describe(string directory, IReadOnlyList<ModelProblem> problems) =>
        $"model folder '{directory}' refused ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}): "
        + string.Join("; ", problems.Select(p => p.Detail))
        + ". Nothing was loaded; fix the folder (or re-export the model) and load it again.";
}
