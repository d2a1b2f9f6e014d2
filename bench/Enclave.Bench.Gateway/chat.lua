-- wrk script for the gateway benchmark: POSTs the benchmark's chat request to the URL given on the command line.
-- The body and the API key come from the environment (ENCLAVE_BENCH_BODY, ENCLAVE_BENCH_KEY), never from argv,
-- so the key does not show in the process list. done() prints one machine-readable line for Enclave.Bench.Gateway.
wrk.method = "POST"
wrk.body = os.getenv("ENCLAVE_BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
local key = os.getenv("ENCLAVE_BENCH_KEY")
if key ~= nil and key ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. key
end

function done(summary, latency, requests)
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d status_errors=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d mean_us=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes,
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
