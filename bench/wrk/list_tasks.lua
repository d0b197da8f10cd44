package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")
local words = require("words")

request = function()
  local word = words[math.random(#words)]
  return c.rpc('{"jsonrpc":"2.0","id":1,"method":"list_tasks","params":{"filters":{"title":{"$containsCi":"'
    .. word .. '"}},"list_options":{"order_bys":"!title","limit":20}}}')
end
