-- rpc.discover: the OpenRPC document, needing no session (answered from the copy built at start).
package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")

request = function()
  return c.rpc('{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}')
end
