-- wrk script of the HTTP benchmark (bench/wrk.ts runs it; not for use on its own).
-- Arguments after `--`: mode file offset limit nthreads
--   mode   "static": every request the same (path and -H headers as given);
--          "bearer": GET, Authorization: Bearer <the next token of file>;
--          "exchange": POST {"idToken": "<the next token of file>"} as JSON.
--   file   one token a line; thread t of nthreads takes lines offset+t, offset+t+nthreads, ... up to
--          offset+limit (so no two threads, and no two runs given disjoint offsets, send the same token).
-- done() prints one line "WRKJSON {...}": requests, duration, errors, latency percentiles (µs) and the
-- most tokens any thread took (the caller advances its offset by nthreads times that).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local tokens = {}
count = 0
wrapped = 0
local static_request

function init(args)
  mode = args[1]
  local file, offset, limit, nthreads = args[2], tonumber(args[3] or "0"), tonumber(args[4] or "0"), tonumber(args[5] or "1")
  if mode ~= "static" then
    local i = 0
    for line in io.lines(file) do
      if i >= offset + limit then break end
      if i >= offset and (i - offset) % nthreads == id then tokens[#tokens + 1] = line end
      i = i + 1
    end
    if #tokens == 0 then error("no tokens for this thread in " .. file) end
  end
  static_request = wrk.format(nil, nil)
end

function request()
  if mode == "static" then return static_request end
  count = count + 1
  local n = #tokens
  if count > n then wrapped = wrapped + 1 end
  local token = tokens[(count - 1) % n + 1]
  if mode == "bearer" then
    return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. token })
  end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, '{"idToken":"' .. token .. '"}')
end

function done(summary, latency, requests)
  local most, reused = 0, 0
  for _, thread in ipairs(threads) do
    local c = thread:get("count") or 0
    if c > most then most = c end
    reused = reused + (thread:get("wrapped") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mostPerThread":%d,"reused":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, most, reused))
end
