-- listtasks.lua: ListTasks of one cluster, first page (maxResults 100).
--
--   wrk -s bench/listtasks.lua URL -- CLUSTER [auth] [check]
--
-- One fixed request, so wrk formats it once.  "check" verifies each answer:
-- 200 and a taskArns list that is not empty.  moto ignores maxResults and
-- answers every task ARN of the cluster in one page (see README.md).
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
dofile(dir .. "/common.lua")

function init(args)
   bench.setup_headers("ListTasks", args)
   bench.check(args, '"taskArns":%s*%["arn:')
   wrk.body = string.format('{"cluster":"%s","maxResults":100}', args[1])
end
