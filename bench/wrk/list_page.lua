-- A page of 100 tasks in id order, no filter: the answer's rows dominate the cost (reading and
-- writing rows), not the search. Used by bench/ab.sh AB_SCRIPT=list_page and bench/sizes.sh.
-- BENCH_PAGE=offset: the page BENCH_PAGE_DEPTH rows deep, by offset; BENCH_PAGE=cursor: the same
-- page by keyset, after BENCH_PAGE_CURSOR (bench_cursor in bench/lib.sh makes it).
package.path = package.path .. ";./bench/wrk/?.lua"
local c = require("common")

local page = os.getenv("BENCH_PAGE") or "first"
local options = '{"limit":100}'
if page == "offset" then
  options = '{"limit":100,"offset":' .. c.env_int("BENCH_PAGE_DEPTH") .. '}'
elseif page == "cursor" then
  options = '{"limit":100,"cursor":"' .. (os.getenv("BENCH_PAGE_CURSOR") or error("BENCH_PAGE_CURSOR is not set")) .. '"}'
end
local body = '{"jsonrpc":"2.0","id":1,"method":"list_tasks","params":{"list_options":' .. options .. '}}'

request = function()
  return c.rpc(body)
end
