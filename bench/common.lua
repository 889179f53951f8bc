-- common.lua: shared by the wrk scripts of bench/ (loaded with dofile).
--
-- bench.setup_headers(args): the AWS JSON 1.1 headers for ACTION; with
--   "auth" among the script arguments, also a static SigV4-shaped
--   Authorization header (moto picks the service from its credential
--   scope; nobody checks the signature).
-- bench.check(args): with "check" among the arguments, response() verifies
--   every answer (status 200 and the body matching a Lua pattern); the
--   counts appear in done()'s JSON as bad_status / bad_body.
-- setup()/done(): done() prints one line "WRK_JSON {...}" with requests,
--   duration, errors and latency percentiles (microseconds).
bench = {}

local AUTH = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ecs/aws4_request, " ..
             "SignedHeaders=host;x-amz-target, Signature=0"

function bench.has(args, word)
   for _, a in ipairs(args or {}) do
      if a == word then return true end
   end
   return false
end

function bench.setup_headers(action, args)
   wrk.method = "POST"
   wrk.path = "/"
   wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
   wrk.headers["X-Amz-Target"] = "AmazonEC2ContainerServiceV20141113." .. action
   if bench.has(args, "auth") then
      wrk.headers["Authorization"] = AUTH
   end
end

-- Per-thread counters, read back by done() through the thread objects.
bad_status = 0
bad_body = 0
first_bad = ""

function bench.check(args, pattern)
   if not bench.has(args, "check") then
      response = nil -- wrk then skips parsing answers
      return
   end
   response = function(status, headers, body)
      if status ~= 200 then
         bad_status = bad_status + 1
         if first_bad == "" then first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200) end
      elseif not string.find(body or "", pattern) then
         bad_body = bad_body + 1
         if first_bad == "" then first_bad = "200 " .. string.sub(body or "", 1, 200) end
      end
   end
end

local threads = {}
local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
   thread:set("thread_id", nthreads)
   table.insert(threads, thread)
end

local function jstr(s)
   s = string.gsub(s, '[%c"\\]', function(c) return string.format("\\u%04x", string.byte(c)) end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local bs, bb, fb = 0, 0, ""
   for _, t in ipairs(threads) do
      bs = bs + (t:get("bad_status") or 0)
      bb = bb + (t:get("bad_body") or 0)
      if fb == "" then fb = t:get("first_bad") or "" end
   end
   local e = summary.errors
   local dur_s = summary.duration / 1e6
   local parts = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_s":%.6f', dur_s),
      string.format('"rps":%.1f', dur_s > 0 and summary.requests / dur_s or 0),
      string.format('"bytes":%d', summary.bytes),
      string.format('"err_connect":%d,"err_read":%d,"err_write":%d,"err_status":%d,"err_timeout":%d',
                    e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"lat_min_us":%d,"lat_mean_us":%.1f,"lat_max_us":%d', latency.min, latency.mean, latency.max),
      string.format('"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d',
                    latency:percentile(50), latency:percentile(90), latency:percentile(99),
                    latency:percentile(99.9)),
      string.format('"bad_status":%d,"bad_body":%d,"first_bad":%s', bs, bb, jstr(fb)),
   }
   io.write("WRK_JSON {" .. table.concat(parts, ",") .. "}\n")
end
