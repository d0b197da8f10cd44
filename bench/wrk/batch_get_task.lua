package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")
local lo, hi = c.env_int("BENCH_TASK_MIN"), c.env_int("BENCH_TASK_MAX")

request = function()
  local calls = {}
  for i = 1, 50 do
    calls[i] = '{"jsonrpc":"2.0","id":' .. i .. ',"method":"get_task","params":{"id":' .. math.random(lo, hi) .. '}}'
  end
  return c.rpc("[" .. table.concat(calls, ",") .. "]")
end
