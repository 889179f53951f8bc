-- runtask.lua: RunTask(count=COUNT) calls, a fixed number per wrk thread.
--
--   wrk -t T -c C -d MAXs -s bench/runtask.lua URL -- CLUSTER TASKDEF BUDGET COUNT [auth]
--
-- One fixed request body {"cluster":..,"taskDefinition":..,"count":COUNT},
-- formatted once.  Every answer is checked: status 200, a "tasks" list that
-- is not empty and an empty "failures" list (a call that could not place all
-- its tasks answers 200 with failures: counted as bad_body).  When a thread
-- has had BUDGET answers it writes "WRK_THREAD_DONE" on stderr and stops.
--
-- wrk itself always waits out -d before it joins its threads and prints its
-- summary, so the caller (bench/tasks.py) reads stderr and sends wrk SIGINT
-- once every thread has said it is done: wrk's duration then ends within a
-- few ms of the last answer.  The requests still in flight when a thread
-- stops (at most its connections minus one) are answered by the server but
-- not counted.  done() (common.lua) prints the WRK_JSON line.
local dir = string.match(debug.getinfo(1, "S").source, "^@(.*)/[^/]*$") or "."
dofile(dir .. "/common.lua")

local budget = 0
local answers = 0
local finished = false

function init(args)
   bench.setup_headers("RunTask", args)
   budget = tonumber(args[3]) or 0
   local count = tonumber(args[4]) or 10
   wrk.body = string.format('{"cluster":"%s","taskDefinition":"%s","count":%d}', args[1], args[2], count)
end

local function bad(kind, status, body)
   if kind == "status" then
      bad_status = bad_status + 1
   else
      bad_body = bad_body + 1
   end
   if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 300) end
end

function response(status, headers, body)
   answers = answers + 1
   if status ~= 200 then
      bad("status", status, body)
   elseif not string.find(body or "", '"failures":%s*%[%s*%]') or not string.find(body or "", '"tasks":%s*%[%s*{') then
      bad("body", status, body)
   end
   if answers >= budget and not finished then
      finished = true
      io.stderr:write("WRK_THREAD_DONE\n")
      io.stderr:flush()
      wrk.thread:stop()
   end
end
