-- The login storm: the bench user logs in again and again (each answer sets a new session).
package.path = package.path .. ";./bench/wrk/?.lua"
require("common")
local body = '{"username":"bench","pwd":"' .. (os.getenv("BENCH_PWD") or error("BENCH_PWD")) .. '"}'

request = function()
  return wrk.format("POST", "/api/login", { ["Content-Type"] = "application/json" }, body)
end
