namespace Enclave.State.Migrations;

/// <summary>The schema of <c>retention.db</c> (retained prompts and answers, encrypted), step by step.</summary>
internal static class RetentionMigrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "initial schema: retained content", context => context.Execute("""
            CREATE TABLE IF NOT EXISTS retained (
                admitted_index INTEGER PRIMARY KEY, request_id TEXT NOT NULL, actor TEXT NOT NULL,
                created TEXT NOT NULL, expires TEXT NOT NULL, key_id TEXT NOT NULL,
                prompt BLOB NOT NULL, answer BLOB);
            CREATE INDEX IF NOT EXISTS retained_expires ON retained (expires);
            """)),
    ];
}
