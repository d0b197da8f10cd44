-- A page of 100 tasks in id order, no filter: the answer's rows dominate the cost (reading and
-- writing rows), not the search. Used by bench/ab.sh AB_SCRIPT=list_page.
package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")

local body = '{"jsonrpc":"2.0","id":1,"method":"list_tasks","params":{"list_options":{"limit":100}}}'

request = function()
  return c.rpc(body)
end
