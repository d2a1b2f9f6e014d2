namespace Enclave.Bench.Gateway.Soak;

/// <summary>What one request of the soak's mix is; each is counted and timed apart.</summary>
internal enum SoakKind
{
    /// <summary><c>POST /v1/chat/completions</c>, not streamed.</summary>
    Chat,

    /// <summary><c>POST /v1/chat/completions</c> with <c>stream: true</c>, read to <c>data: [DONE]</c>.</summary>
    Stream,

    /// <summary><c>POST /v1/embeddings</c>.</summary>
    Embeddings,

    /// <summary>
    /// An admin read, in turn: <c>GET /admin/v1/ledger/checkpoint</c>, <c>GET /admin/v1/airlock/imports</c> and the
    /// usage export <c>GET /console/usage.csv</c> (the admin API has no usage endpoint; the console's export is the
    /// usage read an operator makes, with a console session signed in with the admin key).
    /// </summary>
    Admin,

    /// <summary>One request of an import: the bundle upload or one of its two approvals.</summary>
    Import,

    /// <summary>A chat request from the quota-limited user: 200 until its per-minute quota is spent, then 429 on purpose.</summary>
    OverQuota,
}

/// <summary>How a soak request ended.</summary>
internal enum SoakOutcome
{
    /// <summary>The status (and body check) expected.</summary>
    Ok,

    /// <summary>A 429 from the quota-limited user's traffic (deliberate, counted apart).</summary>
    Refused,

    /// <summary>Anything else: a wrong status or body, a broken connection, a timeout.</summary>
    Error,
}
