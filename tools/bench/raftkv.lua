-- raftkv.lua - wrk load against raftkv's HTTP API. BENCH_OP: put, fill (every
-- key once, in order), get (linearizable) or get-stale. BENCH_TOKEN: a bearer token sent
-- with every request (the TLS rows, whose cluster has --auth-file). See common.lua for the
-- other settings. An https:// URL on wrk's command line makes wrk speak TLS.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
local c = require("common")
local op = os.getenv("BENCH_OP") or "put"
local token = os.getenv("BENCH_TOKEN")
local hdrs = nil
if token ~= nil and token ~= "" then
  hdrs = { ["Authorization"] = "Bearer " .. token }
end

setup = c.setup
init = c.init
done = c.done

function request()
  if op == "put" or op == "fill" then
    return wrk.format("PUT", "/v1/kv/" .. c.key(), hdrs, c.value)
  elseif op == "get" then
    return wrk.format("GET", "/v1/kv/" .. c.key(), hdrs)
  end
  return wrk.format("GET", "/v1/kv/" .. c.key() .. "?consistency=stale", hdrs)
end
