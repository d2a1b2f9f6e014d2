using System.Security.Claims;
using System.Text.Json.Nodes;
using Enclave.Core.Audit;
using Enclave.Policy.Identity;
using Enclave.Policy.Labels;
using Enclave.Retrieval.Extraction;
using Enclave.Server.OpenAi;
using Enclave.State.Retrieval;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Enclave.Server.Retrieval;

/// <summary>
/// <c>/v1/files</c> and <c>/v1/vector_stores</c> in OpenAI's shapes. What a caller's clearance does not dominate does
/// not exist for it: a file with a chunk above the clearance is not listed and is a 404; a vector store counts and
/// searches only the chunks the clearance dominates. Search results carry the chunk's ID and label in
/// <c>attributes</c> (<c>enclave_chunk_id</c>, <c>enclave_label</c>, <c>enclave_sha256</c>).
/// </summary>
internal static class RetrievalEndpoints
{
    public static void MapRetrieval(this RouteGroupBuilder v1)
    {
        v1.MapPost("/files", UploadAsync);
        v1.MapGet("/files", (HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            List([.. store.ListFiles().Where(f => retrieval.CanSee(http.User, f)).Select(f => FileObject(f, retrieval))]));
        v1.MapGet("/files/{id}", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            Visible(http, store, retrieval, id) is { } file ? Results.Json(FileObject(file, retrieval)) : FileNotFound(id));
        v1.MapGet("/files/{id}/content", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            Visible(http, store, retrieval, id) is { } file ? Results.Stream(retrieval.OpenContent(file), "application/octet-stream", file.Filename) : FileNotFound(id));
        v1.MapDelete("/files/{id}", DeleteFileAsync);
        v1.MapPost("/vector_stores", CreateStoreAsync);
        v1.MapGet("/vector_stores", (HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            List([.. store.ListVectorStores().Select(s => StoreObject(http, s, store, retrieval))]));
        v1.MapGet("/vector_stores/{id}", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            store.GetVectorStore(id) is { } vs ? Results.Json(StoreObject(http, vs, store, retrieval)) : StoreNotFound(id));
        v1.MapDelete("/vector_stores/{id}", DeleteStoreAsync);
        v1.MapPost("/vector_stores/{id}/files", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval, RequestHandler reader) =>
            AddFilesAsync(id, http, store, retrieval, reader, batch: false));
        v1.MapPost("/vector_stores/{id}/file_batches", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval, RequestHandler reader) =>
            AddFilesAsync(id, http, store, retrieval, reader, batch: true));
        v1.MapGet("/vector_stores/{id}/files", (string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval) =>
            store.GetVectorStore(id) is { } vs
                ? List([.. store.FilesOfStore(id).Select(f => (store.GetFile(f.FileId), f.Added)).Where(f => f.Item1 is { } file && retrieval.CanSee(http.User, file))
                    .Select(f => StoreFileObject(vs, f.Item1!, f.Added))])
                : StoreNotFound(id));
        v1.MapPost("/vector_stores/{id}/search", SearchAsync);
    }

    private static string Actor(HttpContext http) => http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "anonymous";

    private static string? Marking(HttpContext http) =>
        http.Request.Headers[RequestLabelExtractor.HeaderName] is { Count: > 0 } header ? header.ToString() : null;

    private static RetrievalFileRow? Visible(HttpContext http, IRetrievalStore store, RetrievalService retrieval, string id) =>
        store.GetFile(id) is { } file && retrieval.CanSee(http.User, file) ? file : null;

    private static IResult FileNotFound(string id) => OpenAiError.NotFound($"No such File object: {id}", "file_id", "file_not_found");

    private static IResult StoreNotFound(string id) => OpenAiError.NotFound($"No such vector store: {id}", "vector_store_id", "vector_store_not_found");

    private static IResult List(JsonArray data) => Results.Json(new JsonObject
    {
        ["object"] = "list",
        ["data"] = data,
        ["first_id"] = data.Count > 0 ? data[0]!["id"]!.GetValue<string>() : null,
        ["last_id"] = data.Count > 0 ? data[^1]!["id"]!.GetValue<string>() : null,
        ["has_more"] = false,
    });

    private static async Task<IResult> UploadAsync(HttpContext http, RetrievalService retrieval, RetrievalOptions options)
    {
        if (!http.Request.HasFormContentType)
        {
            return OpenAiError.InvalidRequest("upload a file as multipart/form-data with the fields 'file' and 'purpose'", "file", "invalid_content_type");
        }

        IFormCollection form;
        try
        {
            form = await http.Request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = options.Extraction.MaxFileBytes + 65536, ValueCountLimit = 16 }, http.RequestAborted).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            return OpenAiError.InvalidRequest($"the multipart body could not be read: {ex.Message}", "file");
        }
        catch (BadHttpRequestException ex)
        {
            return OpenAiError.Result(ex.StatusCode, "invalid_request_error", $"the multipart body could not be read: {ex.Message}", "file");
        }

        var purpose = form["purpose"].ToString();
        if (purpose is not ("assistants" or "user_data"))
        {
            return OpenAiError.InvalidRequest($"'purpose' must be 'assistants' or 'user_data' (files here are for retrieval); got '{purpose}'", "purpose");
        }

        if (form.Files.Count != 1 || form.Files[0] is not { } upload || upload.Name != "file")
        {
            return OpenAiError.InvalidRequest("exactly one file is expected, in the field 'file'", "file", "missing_required_parameter");
        }

        if (upload.Length > options.Extraction.MaxFileBytes)
        {
            return OpenAiError.Result(StatusCodes.Status413PayloadTooLarge, "invalid_request_error", $"the file is {upload.Length} bytes; at most {options.Extraction.MaxFileBytes} are accepted", "file");
        }

        var filename = Path.GetFileName(upload.FileName);
        if (filename.Length is 0 or > 255)
        {
            return OpenAiError.InvalidRequest("the file needs a name of 1 to 255 characters; its extension says how it is read (.txt, .md, .html, .pdf)", "file");
        }

        var content = new byte[upload.Length];
        await using (var stream = upload.OpenReadStream())
        {
            await stream.ReadExactlyAsync(content, http.RequestAborted).ConfigureAwait(false);
        }

        try
        {
            var file = await retrieval.UploadAsync(http.User, Actor(http), filename, purpose, content, Marking(http), http.RequestAborted).ConfigureAwait(false);
            http.Response.Headers[OpenAiEndpoints.LedgerIndexHeader] = file.LedgerIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(FileObject(file, retrieval));
        }
        catch (DocumentRejectedException ex)
        {
            return OpenAiError.Result(ex.Reason == DocumentRejection.TooLarge ? StatusCodes.Status413PayloadTooLarge : StatusCodes.Status400BadRequest, "invalid_request_error", "the file was refused: " + ex.Message, "file", "invalid_file");
        }
        catch (RetrievalException ex)
        {
            return Refused(ex);
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }
    }

    private static IResult Refused(RetrievalException ex) => ex.Reason switch
    {
        RetrievalError.InvalidLabel => OpenAiError.InvalidRequest(ex.Message, RequestLabelExtractor.HeaderName, "invalid_classification"),
        RetrievalError.EmbeddingDenied => OpenAiError.Result(StatusCodes.Status403Forbidden, "permission_error", ex.Message, code: "policy_denied"),
        RetrievalError.NoEmbeddingModel => OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", ex.Message),
        _ => OpenAiError.Result(StatusCodes.Status502BadGateway, "server_error", ex.Message),
    };

    private static IResult LedgerUnavailable() =>
        OpenAiError.Result(StatusCodes.Status503ServiceUnavailable, "server_error", "the audit ledger is unavailable; nothing was changed", retryAfter: TimeSpan.FromSeconds(5));

    private static async Task<IResult> DeleteFileAsync(string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval)
    {
        if (Visible(http, store, retrieval, id) is not { } file)
        {
            return FileNotFound(id);
        }

        if (file.Owner != Actor(http) && !http.User.IsInRole(Roles.Admin))
        {
            return OpenAiError.Result(StatusCodes.Status403Forbidden, "permission_error", $"file {id} was uploaded by another principal; only it or an admin may delete it");
        }

        try
        {
            await retrieval.DeleteFileAsync(Actor(http), file, http.RequestAborted).ConfigureAwait(false);
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }

        return Results.Json(new JsonObject { ["id"] = id, ["object"] = "file", ["deleted"] = true });
    }

    private static async Task<IResult> CreateStoreAsync(HttpContext http, IRetrievalStore store, RetrievalService retrieval, RequestHandler reader)
    {
        var (read, error) = await reader.ReadBodyAsync(http).ConfigureAwait(false);
        var body = read?.Body;
        if (error is not null)
        {
            return error;
        }

        var name = body!["name"] switch
        {
            null => string.Empty,
            JsonValue v when v.TryGetValue<string>(out var s) && s.Length <= 256 => s,
            _ => null,
        };
        if (name is null)
        {
            return OpenAiError.InvalidRequest("'name' must be a string of at most 256 characters", "name", "invalid_type");
        }

        var (files, problem) = FileIds(http, body, store, retrieval, required: false);
        if (problem is not null)
        {
            return problem;
        }

        try
        {
            var created = await retrieval.CreateStoreAsync(Actor(http), name, files, http.RequestAborted).ConfigureAwait(false);
            return Results.Json(StoreObject(http, created, store, retrieval));
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }
    }

    private static async Task<IResult> DeleteStoreAsync(string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval)
    {
        if (store.GetVectorStore(id) is not { } vs)
        {
            return StoreNotFound(id);
        }

        if (vs.Owner != Actor(http) && !http.User.IsInRole(Roles.Admin))
        {
            return OpenAiError.Result(StatusCodes.Status403Forbidden, "permission_error", $"vector store {id} was created by another principal; only it or an admin may delete it");
        }

        try
        {
            await retrieval.DeleteStoreAsync(Actor(http), vs, http.RequestAborted).ConfigureAwait(false);
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }

        return Results.Json(new JsonObject { ["id"] = id, ["object"] = "vector_store.deleted", ["deleted"] = true });
    }

    private static async Task<IResult> AddFilesAsync(string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval, RequestHandler reader, bool batch)
    {
        var (read, error) = await reader.ReadBodyAsync(http).ConfigureAwait(false);
        var body = read?.Body;
        if (error is not null)
        {
            return error;
        }

        if (store.GetVectorStore(id) is not { } vs)
        {
            return StoreNotFound(id);
        }

        List<RetrievalFileRow> files;
        if (batch)
        {
            var (many, problem) = FileIds(http, body!, store, retrieval, required: true);
            if (problem is not null)
            {
                return problem;
            }

            files = many;
        }
        else
        {
            if (body!["file_id"] is not JsonValue v || !v.TryGetValue<string>(out var fileId))
            {
                return OpenAiError.InvalidRequest("'file_id' is required and must be a string", "file_id", "missing_required_parameter");
            }

            if (Visible(http, store, retrieval, fileId) is not { } file)
            {
                return FileNotFound(fileId);
            }

            files = [file];
        }

        try
        {
            await retrieval.AddFilesAsync(Actor(http), vs, files, http.RequestAborted).ConfigureAwait(false);
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }

        return batch
            ? Results.Json(new JsonObject
            {
                ["id"] = "vsfb_" + vs.Id[3..],
                ["object"] = "vector_store.files_batch",
                ["created_at"] = store.FilesOfStore(vs.Id).Select(f => f.Added).DefaultIfEmpty(vs.Created).Max().ToUnixTimeSeconds(),
                ["vector_store_id"] = vs.Id,
                ["status"] = "completed",
                ["file_counts"] = Counts(files.Count),
            })
            : Results.Json(StoreFileObject(vs, files[0], store.FilesOfStore(vs.Id).First(f => f.FileId == files[0].Id).Added));
    }

    private static async Task<IResult> SearchAsync(string id, HttpContext http, IRetrievalStore store, RetrievalService retrieval, RetrievalOptions options, RequestHandler reader)
    {
        var (read, error) = await reader.ReadBodyAsync(http).ConfigureAwait(false);
        var body = read?.Body;
        if (error is not null)
        {
            return error;
        }

        if (store.GetVectorStore(id) is not { } vs)
        {
            return StoreNotFound(id);
        }

        var query = body!["query"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) && s.Length > 0 => s,
            JsonArray { Count: > 0 } parts when parts.All(p => p is JsonValue pv && pv.TryGetValue<string>(out _)) => string.Join("\n", parts.Select(p => p!.GetValue<string>())),
            _ => null,
        };
        if (query is null)
        {
            return OpenAiError.InvalidRequest("'query' is required: a non-empty string or array of strings", "query", "missing_required_parameter");
        }

        var top = 10;
        if (body["max_num_results"] is { } max)
        {
            if (max is not JsonValue mv || !mv.TryGetValue<int>(out top) || top < 1 || top > options.MaxResults)
            {
                return OpenAiError.InvalidRequest($"'max_num_results' must be an integer from 1 to {options.MaxResults}", "max_num_results", "invalid_value");
            }
        }

        try
        {
            var outcome = await retrieval.SearchAsync(http.User, Actor(http), vs, query, top, Marking(http), http.RequestAborted).ConfigureAwait(false);
            http.Response.Headers[OpenAiEndpoints.LedgerIndexHeader] = outcome.LedgerIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Results.Json(new JsonObject
            {
                ["object"] = "vector_store.search_results.page",
                ["search_query"] = new JsonArray(query),
                ["data"] = new JsonArray([.. outcome.Results.Select(r => (JsonNode)ResultObject(r))]),
                ["has_more"] = false,
                ["next_page"] = null,
            });
        }
        catch (RetrievalException ex)
        {
            return Refused(ex);
        }
        catch (LedgerWriteException)
        {
            return LedgerUnavailable();
        }
    }

    /// <summary>One search result in OpenAI's shape, with the chunk's ID, label and document digest in its attributes.</summary>
    public static JsonObject ResultObject(SearchResult r) => new()
    {
        ["file_id"] = r.File.Id,
        ["filename"] = r.File.Filename,
        ["score"] = Math.Round(r.Score, 6),
        ["attributes"] = new JsonObject
        {
            ["enclave_chunk_id"] = r.Chunk.ChunkId,
            ["enclave_label"] = r.Chunk.Label,
            ["enclave_sha256"] = r.File.Sha256,
        },
        ["content"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = r.Chunk.Text }),
    };

    private static (List<RetrievalFileRow> Files, IResult? Problem) FileIds(HttpContext http, JsonObject body, IRetrievalStore store, RetrievalService retrieval, bool required)
    {
        if (body["file_ids"] is null && !required)
        {
            return ([], null);
        }

        if (body["file_ids"] is not JsonArray ids || ids.Count > 100 || (required && ids.Count == 0)
            || !ids.All(i => i is JsonValue v && v.TryGetValue<string>(out _)))
        {
            return ([], OpenAiError.InvalidRequest("'file_ids' must be an array of 1 to 100 file IDs", "file_ids", "invalid_type"));
        }

        var files = new List<RetrievalFileRow>();
        foreach (var fileId in ids.Select(i => i!.GetValue<string>()).Distinct(StringComparer.Ordinal))
        {
            if (Visible(http, store, retrieval, fileId) is not { } file)
            {
                return ([], FileNotFound(fileId));
            }

            files.Add(file);
        }

        return (files, null);
    }

    private static JsonObject FileObject(RetrievalFileRow file, RetrievalService retrieval) => new()
    {
        ["id"] = file.Id,
        ["object"] = "file",
        ["bytes"] = file.Bytes,
        ["created_at"] = file.Created.ToUnixTimeSeconds(),
        ["filename"] = file.Filename,
        ["purpose"] = file.Purpose,
        ["status"] = "processed",
        ["status_details"] = null,
        ["enclave_label"] = file.Label,
        ["enclave_highest_label"] = retrieval.Scheme.FormatBanner(retrieval.HighestLabel(file)),
        ["enclave_sha256"] = file.Sha256,
    };

    private static JsonObject Counts(int completed) => new()
    {
        ["in_progress"] = 0,
        ["completed"] = completed,
        ["failed"] = 0,
        ["cancelled"] = 0,
        ["total"] = completed,
    };

    private static JsonObject StoreObject(HttpContext http, VectorStoreRow vs, IRetrievalStore store, RetrievalService retrieval)
    {
        // Only the files the caller may see are counted.
        var visible = store.FilesOfStore(vs.Id).Select(f => store.GetFile(f.FileId)).Where(f => f is not null && retrieval.CanSee(http.User, f)).ToList();
        return new JsonObject
        {
            ["id"] = vs.Id,
            ["object"] = "vector_store",
            ["created_at"] = vs.Created.ToUnixTimeSeconds(),
            ["name"] = vs.Name,
            ["usage_bytes"] = visible.Sum(f => f!.Bytes),
            ["file_counts"] = Counts(visible.Count),
            ["status"] = "completed",
            ["expires_after"] = null,
            ["expires_at"] = null,
            ["last_active_at"] = vs.Created.ToUnixTimeSeconds(),
            ["metadata"] = new JsonObject(),
        };
    }

    private static JsonObject StoreFileObject(VectorStoreRow vs, RetrievalFileRow file, DateTimeOffset added) => new()
    {
        ["id"] = file.Id,
        ["object"] = "vector_store.file",
        ["usage_bytes"] = file.Bytes,
        ["created_at"] = added.ToUnixTimeSeconds(),
        ["vector_store_id"] = vs.Id,
        ["status"] = "completed",
        ["last_error"] = null,
        ["attributes"] = new JsonObject(),
    };
}
