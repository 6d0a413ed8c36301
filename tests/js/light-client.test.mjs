// A light client as an IoT gateway runs one: smoldot (through polkadot-api) syncs from the dev
// chain's spec with the node as its boot node, follows finalized blocks, and reads a device's
// record from storage, which it checks against the finalized state root with a Merkle proof
// the node serves. It trusts no RPC answer: it holds no database and only talks p2p.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createClient } from 'polkadot-api';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startFromWorker } from 'polkadot-api/smoldot/from-node-worker';
import { getSmProvider } from 'polkadot-api/sm-provider';
import { thingschain } from '@polkadot-api/descriptors';
import { startDevNode } from './dev-node.mjs';
import { connect, devAccount, registerDevice, sealedRecord, signAndFinalize } from './pjs.mjs';

let node;
let full;
let worker;
let smoldot;
let light;

before(async () => {
  node = await startDevNode();
  full = await connect(node.url);
});

after(async () => {
  light?.destroy();
  await smoldot?.terminate();
  await worker?.terminate();
  await full?.disconnect();
  node?.stop();
});

/** The dev chain's raw spec, with the running node as its only boot node. */
async function specWithBootNode() {
  const spec = JSON.parse(execFileSync(process.env.NODE_BIN, ['export-chain-spec', '--chain', 'dev', '--raw'], {
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  }));
  const peerId = (await full.rpc.system.localPeerId()).toString();
  spec.bootNodes = [`/ip4/127.0.0.1/tcp/${node.p2pPort}/p2p/${peerId}`];
  return JSON.stringify(spec);
}

test('smoldot syncs, follows finality and reads a device record with a storage proof', async () => {
  // Through the full node: Dave onboards a device, which stores a sealed reading.
  const dave = await devAccount('//Dave');
  const reader = '0x' + '11'.repeat(32);
  const { deviceId, device } = await registerDevice(full, dave, reader);
  const stored = await signAndFinalize(sealedRecord(full, reader), device);
  const storedAt = (await full.rpc.chain.getHeader(stored)).number.toNumber();

  // The light client, from the chain spec alone, in a worker thread as an app would run it
  // (terminating the worker closes its connections).
  worker = new Worker(fileURLToPath(import.meta.resolve('polkadot-api/smoldot/node-worker')));
  smoldot = startFromWorker(worker, { maxLogLevel: Number(process.env.SMOLDOT_LOG ?? 1) });
  const chain = await smoldot.addChain({ chainSpec: await specWithBootNode() });
  light = createClient(getSmProvider(() => chain));
  const api = light.getTypedApi(thingschain);

  // It follows finality past the record's block...
  const finalized = await new Promise((resolve) => {
    const subscription = light.finalizedBlock$.subscribe((block) => {
      if (block.number > storedAt) {
        subscription.unsubscribe();
        resolve(block);
      }
    });
  });
  assert.equal(finalized.hash, (await full.rpc.chain.getBlockHash(finalized.number)).toHex(),
    'the light client finalized the full node\'s block');

  // ...and reads the record there, proven against that block's state root.
  const record = await api.query.Payloads.Records.getValue(BigInt(deviceId), 0n, { at: finalized.hash });
  assert.ok(record, 'the record is in the finalized state');
  assert.equal(record.payload.type, 'Encrypted');
  const recipient = record.payload.value.recipients[0].reader;
  assert.equal(typeof recipient === 'string' ? recipient : recipient.asHex(), reader);
  const owner = await api.query.Devices.Devices.getValue(BigInt(deviceId), { at: finalized.hash });
  assert.equal(owner.owner, dave.address);
});
