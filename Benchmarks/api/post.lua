-- wrk script: POST one AWS JSON 1.0 request (target and body from the environment).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = os.getenv("TARGET")
wrk.body = os.getenv("BODY")
-- SigV4 (BENCH_SIGV4): one signature, made for this target and body.
if os.getenv("AUTHORIZATION") and os.getenv("AUTHORIZATION") ~= "" then
  wrk.headers["X-Amz-Date"] = os.getenv("AMZ_DATE")
  wrk.headers["Authorization"] = os.getenv("AUTHORIZATION")
end

-- A `response` callback makes wrk hand every response to Lua, which costs it about as much
-- CPU as the daemon spends on the request, on the same two cores: it is defined only when
-- SHOW_ERRORS is set (non-2xx responses are counted either way).
if os.getenv("SHOW_ERRORS") then
  local errors = 0
  response = function(status, headers, body)
    if status ~= 200 then
      errors = errors + 1
      if errors <= 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
    end
  end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
