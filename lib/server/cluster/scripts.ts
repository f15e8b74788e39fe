/**
 * The Lua scripts of the cluster store. Each runs atomically in Redis, so a
 * claim, a route or an expiry sees and changes the shared state in one step:
 * two nodes cannot both claim an id, a message cannot slip between "the
 * recipient is not connected" and "hold it", and one sweeper alone takes a
 * queue that expires (one `EXPIRE` per sender, cluster-wide).
 *
 * Keys, under a prefix P (one per server `key`):
 *   P node:N      this node N is alive (a lease: PX lease, renewed by heartbeats)
 *   P nodes       set of the nodes seen (dead ones are cleaned up by heartbeats)
 *   P peers:N     set of the ids node N holds
 *   P peer:ID     hash { node, token }: who holds ID (free if that node is dead)
 *   P held:ID     list of messages held for ID (JSON texts, oldest first)
 *   P heldb:ID    bytes held for ID
 *   P heldbytes   bytes held in all
 *   P deadlines   sorted set ID -> when its held messages expire (ms, Redis clock)
 *   P chan:N      pub/sub channel of node N
 * Every script takes P as ARGV[1]. The state is on one Redis (or one
 * primary with replicas): scripts touch keys they compute, which Redis
 * Cluster's key slots would refuse.
 */

const PRELUDE = `
local P = ARGV[1]
local function alive (node)
  return node and redis.call('EXISTS', P .. 'node:' .. node) == 1
end
local function now_ms ()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function take (id)
  local hk = P .. 'held:' .. id
  local msgs = redis.call('LRANGE', hk, 0, -1)
  local bytes = tonumber(redis.call('GET', P .. 'heldb:' .. id) or '0') or 0
  if bytes > 0 then redis.call('DECRBY', P .. 'heldbytes', bytes) end
  redis.call('DEL', hk, P .. 'heldb:' .. id)
  redis.call('ZREM', P .. 'deadlines', id)
  return msgs
end
`

/**
 * Claims an id for this node. ARGV: P, node, id, token, mode ('claim' or
 * 'reclaim'). Returns {'taken'} if another live node holds it (with another
 * token, or in 'reclaim' mode with any), else {'claimed', held messages};
 * a claim with the same token as another live node's takes the id over and
 * tells that node to close its socket.
 */
export const CLAIM = PRELUDE + `
local node, id, token, mode = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local pk = P .. 'peer:' .. id
local owner = redis.call('HMGET', pk, 'node', 'token')
local onode, otoken = owner[1], owner[2]
if onode and onode ~= node then
  if alive(onode) then
    if mode == 'reclaim' or otoken ~= token then return {'taken'} end
    redis.call('PUBLISH', P .. 'chan:' .. onode, cjson.encode({k = 'evict', id = id}))
  end
  redis.call('SREM', P .. 'peers:' .. onode, id)
end
redis.call('HSET', pk, 'node', node, 'token', token)
redis.call('SADD', P .. 'peers:' .. node, id)
redis.call('SADD', P .. 'nodes', node)
return {'claimed', take(id)}
`

/** Frees an id if this node still holds it with this token. ARGV: P, node, id, token. */
export const RELEASE = PRELUDE + `
local node, id, token = ARGV[2], ARGV[3], ARGV[4]
local pk = P .. 'peer:' .. id
local owner = redis.call('HMGET', pk, 'node', 'token')
if owner[1] ~= node or owner[2] ~= token then return 0 end
redis.call('DEL', pk)
redis.call('SREM', P .. 'peers:' .. node, id)
return 1
`

/**
 * Sends a message to the node holding its recipient (if that node listens), or holds it.
 * ARGV: P, dst, message text, bytes, excluded node ('' for none),
 * may hold ('1'/'0'), most held per peer, most bytes held, expire timeout.
 * Returns 'sent', 'held', 'dropped' (not holdable), 'queue-full' or 'server-full'.
 */
export const ROUTE = PRELUDE + `
local dst, text, bytes, excluded, holdable = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]
local max_per_peer, max_bytes, timeout = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local onode = redis.call('HGET', P .. 'peer:' .. dst, 'node')
if onode and onode ~= excluded and alive(onode) then
  -- Nobody listening (that node is resubscribing): hold it instead.
  if redis.call('PUBLISH', P .. 'chan:' .. onode, '{"k":"msg","m":' .. text .. '}') > 0 then return 'sent' end
end
if holdable ~= '1' then return 'dropped' end
local hk = P .. 'held:' .. dst
local n = redis.call('LLEN', hk)
if n >= max_per_peer then return 'queue-full' end
local total = tonumber(redis.call('GET', P .. 'heldbytes') or '0') or 0
if total + bytes > max_bytes then return 'server-full' end
if n == 0 then redis.call('ZADD', P .. 'deadlines', now_ms() + timeout, dst) end
redis.call('RPUSH', hk, text)
redis.call('INCRBY', P .. 'heldbytes', bytes)
redis.call('INCRBY', P .. 'heldb:' .. dst, bytes)
return 'held'
`

/**
 * Expires the queues whose time has come (at most ARGV[2] of them): each
 * sender of a message in them gets one EXPIRE, through the node holding it.
 * Atomic, so two sweepers never expire the same queue. Returns how many queues expired.
 */
export const SWEEP = PRELUDE + `
local limit = tonumber(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', P .. 'deadlines', '-inf', now_ms(), 'LIMIT', 0, limit)
for _, dst in ipairs(due) do
  local told = {}
  for _, text in ipairs(take(dst)) do
    local ok, m = pcall(cjson.decode, text)
    if ok and type(m) == 'table' and type(m.src) == 'string' and not told[m.src] then
      told[m.src] = true
      local onode = redis.call('HGET', P .. 'peer:' .. m.src, 'node')
      if alive(onode) then
        redis.call('PUBLISH', P .. 'chan:' .. onode, cjson.encode({k = 'msg', m = {type = 'EXPIRE', src = dst, dst = m.src}}))
      end
    end
  end
end
return #due
`

/**
 * Renews this node's lease and cleans up after dead nodes (their ids are
 * freed). ARGV: P, node, lease ms. Returns 1 if the lease was still there,
 * 0 if it had lapsed (Redis lost it, or this node stalled): the node must
 * then claim its ids again.
 */
export const HEARTBEAT = PRELUDE + `
local node, lease = ARGV[2], ARGV[3]
local existed = redis.call('EXISTS', P .. 'node:' .. node)
redis.call('SET', P .. 'node:' .. node, '1', 'PX', lease)
redis.call('SADD', P .. 'nodes', node)
for _, other in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if not alive(other) then
    for _, id in ipairs(redis.call('SMEMBERS', P .. 'peers:' .. other)) do
      if redis.call('HGET', P .. 'peer:' .. id, 'node') == other then redis.call('DEL', P .. 'peer:' .. id) end
    end
    redis.call('DEL', P .. 'peers:' .. other)
    redis.call('SREM', P .. 'nodes', other)
  end
end
return existed
`

/** The ids held by live nodes. ARGV: P. */
export const PEERS = PRELUDE + `
local out = {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if alive(node) then
    for _, id in ipairs(redis.call('SMEMBERS', P .. 'peers:' .. node)) do out[#out + 1] = id end
  end
end
return out
`

/** 1 if no live node holds the id. ARGV: P, id. */
export const FREE = PRELUDE + `
return alive(redis.call('HGET', P .. 'peer:' .. ARGV[2], 'node')) and 0 or 1
`

/** Ends this node's lease and frees its ids (a clean shutdown). ARGV: P, node. */
export const LEAVE = PRELUDE + `
local node = ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', P .. 'peers:' .. node)) do
  if redis.call('HGET', P .. 'peer:' .. id, 'node') == node then redis.call('DEL', P .. 'peer:' .. id) end
end
redis.call('DEL', P .. 'peers:' .. node, P .. 'node:' .. node)
redis.call('SREM', P .. 'nodes', node)
return 1
`
