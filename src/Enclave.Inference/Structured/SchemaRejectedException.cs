namespace Enclave.Inference.Structured;

/// <summary>
/// A response format the engine cannot honour exactly: malformed, or using a keyword (or a keyword value) that the
/// schema compiler does not support. <see cref="Param"/> names where, as the OpenAI error object's <c>param</c>
/// (<c>response_format.json_schema.schema.properties.age.multipleOf</c>). The request is answered 400; a keyword is
/// never silently ignored.
/// </summary>
public sealed class SchemaRejectedException : Exception
{
    public SchemaRejectedException(string message, string param)
        : base(message)
    {
        Param = param;
    }

    public SchemaRejectedException()
    {
        Param = "response_format";
    }

    public SchemaRejectedException(string message)
        : base(message)
    {
        Param = "response_format";
    }

    public SchemaRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Param = "response_format";
    }

    public string Param { get; }
}
