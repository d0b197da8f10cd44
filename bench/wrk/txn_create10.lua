-- One transaction of ten create_task calls in one of the bench user's projects.
package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")
local lo, hi = c.env_int("BENCH_PROJECT_MIN"), c.env_int("BENCH_PROJECT_MAX")

request = function()
  local project, calls = math.random(lo, hi), {}
  for i = 1, 10 do
    calls[i] = '{"method":"create_task","params":{"data":{"project_id":' .. project
      .. ',"title":"bench txn ' .. math.random(1, 1000000) .. '"}}}'
  end
  return c.rpc('{"jsonrpc":"2.0","id":1,"method":"transaction","params":{"calls":[' .. table.concat(calls, ",") .. ']}}')
end
