-- list.lua: ListClusters, first page (maxResults 100).
--
--   wrk -s bench/list.lua URL -- [auth] [check]
--
-- One fixed request, so wrk formats it once.  "check" verifies each answer:
-- 200 and a clusterArns list that is not empty.  moto ignores maxResults and
-- answers every cluster ARN in one page (see README.md).
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
dofile(dir .. "/common.lua")

function init(args)
   bench.setup_headers("ListClusters", args)
   bench.check(args, '"clusterArns":%s*%["arn:')
   wrk.body = '{"maxResults":100}'
end
