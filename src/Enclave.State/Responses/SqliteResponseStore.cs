using System.Data.Common;

namespace Enclave.State.Responses;

/// <summary>The <c>responses</c> table of <c>enclave.db</c>, on SQLite or PostgreSQL.</summary>
public sealed class SqliteResponseStore(StateConnectionFactory factory) : IResponseStore
{
    /// <inheritdoc/>
    public void Put(StoredResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        var inserted = factory.Dialect.NonQuery(
            connection,
            null,
            """
            INSERT INTO responses (id, owner, label, model, created, previous_id, request_id, admitted_index, conversation, response, status, input_items)
            VALUES ($id, $o, $l, $m, $c, $p, $r, $a, $cv, $rs, $s, $in)
            ON CONFLICT (id) DO NOTHING
            """,
            ("$id", response.Id),
            ("$o", response.Owner),
            ("$l", response.Label),
            ("$m", response.Model),
            ("$c", SqlDialect.FormatTime(response.Created)),
            ("$p", response.PreviousId),
            ("$r", response.RequestId),
            ("$a", response.AdmittedIndex),
            ("$cv", response.Conversation),
            ("$rs", response.Response),
            ("$s", response.Status),
            ("$in", response.InputItems));
        if (inserted == 0)
        {
            throw new ArgumentException($"a response with id '{response.Id}' is already stored", nameof(response));
        }
    }

    /// <inheritdoc/>
    public StoredResponse? Get(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        using var command = factory.Dialect.Command(
            connection,
            null,
            "SELECT id, owner, label, model, created, previous_id, request_id, admitted_index, conversation, response, status, input_items FROM responses WHERE id = $id",
            ("$id", id));
        using DbDataReader reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new StoredResponse
        {
            Id = reader.GetString(0),
            Owner = reader.GetString(1),
            Label = reader.GetString(2),
            Model = reader.GetString(3),
            Created = SqlDialect.ParseTime(reader.GetString(4)),
            PreviousId = reader.IsDBNull(5) ? null : reader.GetString(5),
            RequestId = reader.GetString(6),
            AdmittedIndex = reader.GetInt64(7),
            Conversation = reader.GetString(8),
            Response = reader.GetString(9),
            Status = reader.GetString(10),
            InputItems = reader.GetString(11),
        };
    }

    /// <inheritdoc/>
    public bool Delete(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.NonQuery(connection, null, "DELETE FROM responses WHERE id = $id", ("$id", id)) > 0;
    }

    /// <inheritdoc/>
    public bool Transition(string id, string status, string response, string? conversation = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(response);
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        const string Running = " WHERE id = $id AND status IN ('queued', 'in_progress')";
        return (conversation is null
            ? factory.Dialect.NonQuery(connection, null, "UPDATE responses SET status = $s, response = $rs" + Running, ("$id", id), ("$s", status), ("$rs", response))
            : factory.Dialect.NonQuery(connection, null, "UPDATE responses SET status = $s, response = $rs, conversation = $cv" + Running, ("$id", id), ("$s", status), ("$rs", response), ("$cv", conversation))) > 0;
    }

    /// <inheritdoc/>
    public int DeleteCreatedBefore(DateTimeOffset cutoff)
    {
        using var connection = factory.OpenWriter(StateDatabase.Enclave, pooled: true);
        return factory.Dialect.NonQuery(connection, null, "DELETE FROM responses WHERE created < $c", ("$c", SqlDialect.FormatTime(cutoff)));
    }
}
