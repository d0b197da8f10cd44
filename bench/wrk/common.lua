-- Shared by the workloads: a JSON-RPC request with the session cookie, and a result line that
-- counts every answer that is not a success. Non-2xx and socket errors are always counted; with
-- BENCH_CHECK=1 every body is also searched for a JSON-RPC error (that costs wrk a quarter of its
-- speed, so run.sh does it in a short verification pass before each timed run).
local M = {}

local cookie = os.getenv("BENCH_COOKIE") or ""
local threads = {}

function M.rpc(body)
  return wrk.format("POST", "/api/rpc", { ["Content-Type"] = "application/json", ["Cookie"] = cookie }, body)
end

function M.env_int(name)
  return tonumber(os.getenv(name) or error(name .. " is not set"))
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failures = 0
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):sub(8), 16))
end

if os.getenv("BENCH_CHECK") == "1" then
  function response(status, headers, body)
    if (status ~= 200 and status ~= 204) or (body and body:find('"error"', 1, true)) then
      failures = failures + 1
    end
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f failures=%d non2xx=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, total, e.status,
    e.connect + e.read + e.write + e.timeout))
end

return M
