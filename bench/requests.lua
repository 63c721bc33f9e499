-- wrk script for every HTTP scenario of bench/run.py.
--
-- wrk -t N -c N -s bench/requests.lua URL -- <dir> <cycle|once>
--
-- Each wrk thread drives one connection (threads = connections) and reads its own request list,
-- <dir>/thread_<n>.txt, one request a line: "METHOD PATH TOKEN". The lists are written by
-- bench/run.py (random doctors, each client's own patient and slots, the racing slots).
-- cycle: go round the list until wrk's duration ends; once: send each line once, then stop the
-- thread and append a line to <dir>/done, so that run.py knows when every thread has finished.
-- done() prints one JSON line: wrk's latency percentiles and the responses counted by status.

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  dir, mode = args[1], args[2]
  lines = {}
  for line in io.lines(dir .. "/thread_" .. id .. ".txt") do
    local method, path, token = line:match("^(%S+) (%S+) (%S+)$")
    table.insert(lines, { method, path, { ["Authorization"] = "Token " .. token } })
  end
  sent, received, finished = 0, 0, false
  statuses = {}
end

function request()
  sent = sent + 1
  local index = ((sent - 1) % #lines) + 1
  local line = lines[index]
  return wrk.format(line[1], line[2], line[3])
end

function response(status, headers, body)
  received = received + 1
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if mode == "once" and received >= #lines and not finished then
    finished = true
    local marker = io.open(dir .. "/done", "a")
    marker:write(id, "\n")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(totals) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, errors.connect, errors.read, errors.write, errors.timeout, table.concat(parts, ", ")
  ))
end
