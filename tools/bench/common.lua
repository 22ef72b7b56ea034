-- common.lua - shared by every wrk script of `make bench`: where each wrk
-- thread connects, the key space, and one machine-readable result line.
--
-- Settings (environment, read by tools/bench.sh's caller):
--   BENCH_ADDRS   host:port,host:port,... ; thread i connects to entry i mod n
--   BENCH_KEYS    size of the key space (keys k0..k<N-1>)
--   BENCH_VALUE   value size in bytes
local M = {}

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Standard base64 (etcd's JSON gateway takes keys and values in base64).
function M.base64(s)
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

function M.env_number(name, default)
  local v = tonumber(os.getenv(name) or "")
  if v == nil then return default end
  return v
end

M.keys = M.env_number("BENCH_KEYS", 1000)
M.value = string.rep("v", M.env_number("BENCH_VALUE", 64))

-- Spreads wrk's threads over the nodes: thread i talks to address i mod n.
local addrs = {}
for a in string.gmatch(os.getenv("BENCH_ADDRS") or "", "[^,]+") do
  local host, port = a:match("^(.*):(%d+)$")
  table.insert(addrs, wrk.lookup(host, port)[1])
end
local next_thread = 0
function M.setup(thread)
  if #addrs > 0 then
    thread.addr = addrs[(next_thread % #addrs) + 1]
  end
  thread:set("id", next_thread)
  next_thread = next_thread + 1
end

-- Each thread draws its own random sequence.
function M.init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

-- A random key, or with BENCH_OP=fill the next one in order (k0, k1, ...)
-- so that a short fill run writes every key of the space.
local filled = 0
function M.key_index()
  if os.getenv("BENCH_OP") == "fill" then
    filled = filled + 1
    return filled % M.keys
  end
  return math.random(0, M.keys - 1)
end

function M.key()
  return "k" .. M.key_index()
end

-- One line tools/bench.sh parses: requests, errors and latency percentiles (us).
function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "result requests=%d duration_us=%d errors=%d status_errors=%d p50_us=%d p99_us=%d p999_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end

return M
