-- raftkv.lua - wrk load against raftkv's HTTP API. BENCH_OP: put, fill (every
-- key once, in order), get (linearizable) or get-stale. See common.lua for the other settings.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local op = os.getenv("BENCH_OP") or "put"

setup = c.setup
init = c.init
done = c.done

function request()
  if op == "put" or op == "fill" then
    return wrk.format("PUT", "/v1/kv/" .. c.key(), nil, c.value)
  elseif op == "get" then
    return wrk.format("GET", "/v1/kv/" .. c.key())
  end
  return wrk.format("GET", "/v1/kv/" .. c.key() .. "?consistency=stale")
end
