-- wrk script for `bun run bench load` (tests/bench/load.ts writes the data file it reads).
-- A realistic mix per 100 requests: 30 GET /auth/me, 25 GET /assessments, 20 POST answers,
-- 15 POST /rag/query, 10 POST /ai/chat (JSON). Users rotate, so every request carries a token
-- and each user writes to their own assessment. Status codes are counted per thread and summed
-- in done(), which prints one JSON line for the benchmark to parse.
local data = dofile(os.getenv("LOAD_DATA"))
local threads = {}

local weights = { { "me", 30 }, { "list", 25 }, { "answer", 20 }, { "query", 15 }, { "chat", 10 } }
local schedule = {}
for _, w in ipairs(weights) do
  for _ = 1, w[2] do schedule[#schedule + 1] = w[1] end
end
-- Interleave the kinds (a fixed shuffle, so every run sends the same sequence).
math.randomseed(42)
for i = #schedule, 2, -1 do
  local j = math.random(i)
  schedule[i], schedule[j] = schedule[j], schedule[i]
end

local queries = {
  "how does the group share its prospects",
  "trust and psychological safety in a team",
  "who decides and how is power spread",
  "conflict between members about goals",
  "how the group coordinates its work",
}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  counter = offset or 0
  statuses = {}
end

function request()
  counter = counter + 1
  local kind = schedule[(counter % #schedule) + 1]
  local user = data.users[(counter % #data.users) + 1]
  local headers = { ["Authorization"] = "Bearer " .. user.token }
  if kind == "me" then
    return wrk.format("GET", "/api/v1/auth/me", headers)
  elseif kind == "list" then
    return wrk.format("GET", "/api/v1/assessments?limit=10", headers)
  end
  headers["Content-Type"] = "application/json"
  if kind == "answer" then
    local question = user.questions[(counter % #user.questions) + 1]
    local body = string.format('{"question_id":"%s","answer":%d}', question, (counter % 5) + 1)
    return wrk.format("POST", "/api/v1/assessments/" .. user.assessment .. "/answers", headers, body)
  elseif kind == "query" then
    local body = string.format('{"query":"%s","limit":5}', queries[(counter % #queries) + 1])
    return wrk.format("POST", "/api/v1/rag/query", headers, body)
  end
  local body = string.format('{"message":"%s"}', queries[(counter % #queries) + 1])
  return wrk.format("POST", "/api/v1/ai/chat", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(total) do parts[#parts + 1] = string.format('"%d":%d', code, count) end
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, table.concat(parts, ",")))
end
