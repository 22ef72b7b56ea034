-- etcd.lua - the same load against etcd 3.4's JSON gateway (v3 API over
-- HTTP/1.1): put, fill, get (linearizable range) or get-stale (serializable
-- range).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local op = os.getenv("BENCH_OP") or "put"
local value64 = c.base64(c.value)
local headers = { ["Content-Type"] = "application/json" }

setup = c.setup
init = c.init
done = c.done

-- Keys are encoded once: base64 per request would cost the client more CPU
-- than the server under test.
local keys64 = {}
for i = 0, c.keys - 1 do keys64[i] = c.base64("k" .. i) end

function request()
  local k = keys64[c.key_index()]
  if op == "put" or op == "fill" then
    return wrk.format("POST", "/v3/kv/put", headers,
      '{"key":"' .. k .. '","value":"' .. value64 .. '"}')
  elseif op == "get" then
    return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. k .. '"}')
  end
  return wrk.format("POST", "/v3/kv/range", headers,
    '{"key":"' .. k .. '","serializable":true}')
end
