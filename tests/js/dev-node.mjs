// A real `thingschain --dev` node for the client tests: RPC and p2p on free 127.0.0.1 ports,
// no Prometheus, telemetry or mDNS, a temporary database; `stop()` kills it.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the node at `url` answers JSON-RPC over HTTP; rejects after `timeoutMs`. */
async function rpcReady(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'system_health', params: [] }),
      });
      if (response.ok) return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`no RPC at ${url}: ${e}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Starts the node `NODE_BIN` names; once it serves RPC, resolves with its `ws://` and `http://`
 * RPC URLs, its p2p port and `stop()`.
 */
export async function startDevNode() {
  const binary = process.env.NODE_BIN;
  if (!binary) throw new Error('NODE_BIN names the thingschain binary');
  const [rpcPort, p2pPort] = [await freePort(), await freePort()];
  const node = spawn(binary, [
    '--dev', '--tmp', '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-prometheus', '--no-telemetry', '--no-mdns',
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  const stop = () => node.kill('SIGKILL');
  // Also when the test process ends early (a failure, a timeout).
  process.on('exit', stop);
  try {
    await rpcReady(`http://127.0.0.1:${rpcPort}`, 60_000);
  } catch (e) {
    stop();
    throw e;
  }
  return { url: `ws://127.0.0.1:${rpcPort}`, rpc: `http://127.0.0.1:${rpcPort}`, p2pPort, stop };
}
