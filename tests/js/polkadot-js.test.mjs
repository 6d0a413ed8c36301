// Polkadot.js (the library behind Polkadot.js Apps) against a real `thingschain --dev` node:
// it connects, reads chain metadata and balances, and signs a transfer with our
// transaction extensions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';

const NODE_BIN = process.env.NODE_BIN;
const TIC = 10n ** 12n;
let node;
let api;

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

async function connect(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const provider = new WsProvider(url, false);
    try {
      await provider.connect();
      await provider.isReadyOrError;
      return await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
    } catch (e) {
      await provider.disconnect().catch(() => {});
      if (Date.now() > deadline) throw new Error(`no RPC at ${url}: ${e}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

before(async () => {
  assert.ok(NODE_BIN, 'NODE_BIN names the thingschain binary');
  const [rpcPort, p2pPort] = [await freePort(), await freePort()];
  node = spawn(NODE_BIN, [
    '--dev', '--tmp', '--rpc-port', String(rpcPort),
    '--listen-addr', `/ip4/127.0.0.1/tcp/${p2pPort}`,
    '--no-prometheus', '--no-telemetry', '--no-mdns',
  ], { stdio: ['ignore', 'ignore', 'ignore'] });
  api = await connect(`ws://127.0.0.1:${rpcPort}`, 60_000);
});

after(async () => {
  await api?.disconnect();
  node?.kill('SIGKILL');
});

test('reads the chain like Polkadot.js Apps does', async () => {
  const [chain, properties, version] = await Promise.all([
    api.rpc.system.chain(),
    api.rpc.system.properties(),
    api.rpc.state.getRuntimeVersion(),
  ]);
  assert.equal(chain.toString(), 'ThingsChain Development');
  assert.equal(properties.tokenSymbol.unwrap()[0].toString(), 'TIC');
  assert.equal(properties.tokenDecimals.unwrap()[0].toNumber(), 12);
  assert.equal(version.specName.toString(), 'thingschain');
  assert.ok(api.tx.multisig && api.tx.proxy && api.tx.utility, 'multisig, proxy and utility are callable');
  assert.equal(api.consts.balances.existentialDeposit.toBigInt(), TIC / 1000n);
});

test('signs and submits a transfer that is finalized', async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  const charlie = keyring.addFromUri('//Charlie');
  const before = (await api.query.system.account(charlie.address)).data.free.toBigInt();

  const result = await new Promise((resolve, reject) => {
    api.tx.balances
      .transferKeepAlive(charlie.address, 3n * TIC)
      .signAndSend(alice, ({ status, dispatchError }) => {
        if (dispatchError) reject(new Error(dispatchError.toString()));
        else if (status.isFinalized) resolve(status.asFinalized);
      })
      .catch(reject);
  });
  assert.ok(result, 'finalized in a block');

  const after = (await api.query.system.account(charlie.address)).data.free.toBigInt();
  assert.equal(after - before, 3n * TIC);
});
