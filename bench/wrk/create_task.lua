package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")
local lo, hi = c.env_int("BENCH_PROJECT_MIN"), c.env_int("BENCH_PROJECT_MAX")

request = function()
  return c.rpc('{"jsonrpc":"2.0","id":1,"method":"create_task","params":{"data":{"project_id":'
    .. math.random(lo, hi) .. ',"title":"bench created ' .. math.random(1, 1000000) .. '"}}}')
end
