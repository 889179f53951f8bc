-- describe.lua: DescribeClusters with 10 random existing names per request.
--
--   wrk -s bench/describe.lua URL -- COUNT [PREFIX] [auth] [check]
--
-- The clusters are PREFIX..%05d for 0 <= i < COUNT (bench/populate.py makes
-- them; PREFIX defaults to bench-cluster-).  Each wrk thread pre-builds 4096
-- requests of 10 distinct random names at start and cycles through them, so
-- wrk (which shares the machine with the server) spends no time formatting
-- during the run.  "check" verifies each answer: 200 and an empty failures
-- list (every name found).
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
dofile(dir .. "/common.lua")

local reqs = {}
local nreqs = 4096
local k = 0

function init(args)
   local count = tonumber(args[1]) or 10000
   local prefix = args[2] or "bench-cluster-"
   if prefix == "auth" or prefix == "check" then prefix = "bench-cluster-" end
   bench.setup_headers("DescribeClusters", args)
   bench.check(args, '"failures":%s*%[%]')
   math.randomseed(os.time() * 100 + (thread_id or 0))
   for r = 1, nreqs do
      local seen, names = {}, {}
      while #names < math.min(10, count) do
         local i = math.random(0, count - 1)
         if not seen[i] then
            seen[i] = true
            names[#names + 1] = string.format('"%s%05d"', prefix, i)
         end
      end
      reqs[r] = wrk.format(nil, nil, nil, '{"clusters":[' .. table.concat(names, ",") .. ']}')
   end
end

function request()
   k = k % nreqs + 1
   return reqs[k]
end
