// conformance-loopback.mjs is preloaded (node --import) into the test suite's
// origin server by scripts/conformance. The suite's server calls
// server.listen(port) with no host, which binds every interface; this makes a
// listen call given only a port bind 127.0.0.1 instead, so the origin is
// reachable from this machine alone.

import net from 'node:net'

const listen = net.Server.prototype.listen

net.Server.prototype.listen = function (...args) {
  const portOnly = (typeof args[0] === 'number' || typeof args[0] === 'string') &&
    (args.length === 1 || typeof args[1] === 'function')
  if (portOnly) args.splice(1, 0, '127.0.0.1')
  return listen.apply(this, args)
}
