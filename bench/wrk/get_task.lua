package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")
local lo, hi = c.env_int("BENCH_TASK_MIN"), c.env_int("BENCH_TASK_MAX")

request = function()
  return c.rpc('{"jsonrpc":"2.0","id":1,"method":"get_task","params":{"id":' .. math.random(lo, hi) .. '}}')
end
