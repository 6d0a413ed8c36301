// polkadot-api (the SDK's newer client) against a real `thingschain --dev` node, through the
// descriptors `papi` generates from this checkout's runtime (`npm test` regenerates them from
// the built WASM first): the typed API is compatible with the node, reads every constant and
// storage item of our pallets, signs a transfer and a DPoS vote, and decodes the events of
// every finalized block.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, Enum, getTypedCodecs } from 'polkadot-api';
import { getWsProvider } from 'polkadot-api/ws';
import { getPolkadotSigner } from 'polkadot-api/signer';
import { thingschain } from '@polkadot-api/descriptors';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { WebSocket } from 'ws';
import { startDevNode } from './dev-node.mjs';

const TIC = 10n ** 12n;
/** Our pallets, as the descriptors name them. */
const OUR_PALLETS = ['Dpos', 'AuraEquivocation', 'ServiceRegistry', 'NestAnchor', 'NestPeg', 'Devices', 'Payloads'];
let node;
let client;
let api;

before(async () => {
  node = await startDevNode();
  // Node.js 20 has no global WebSocket; `ws` is the one @polkadot/api uses too.
  client = createClient(getWsProvider(node.url, { websocketClass: WebSocket }));
  api = client.getTypedApi(thingschain);
});

after(() => {
  client?.destroy();
  node?.stop();
});

/** A polkadot-api signer for the sr25519 dev account `uri`, and its address. */
async function devSigner(uri) {
  await cryptoWaitReady();
  const pair = new Keyring({ type: 'sr25519' }).addFromUri(uri);
  return { address: pair.address, signer: getPolkadotSigner(pair.publicKey, 'Sr25519', (data) => pair.sign(data)) };
}

test('the generated descriptors are the node\'s runtime', async () => {
  const version = await api.constants.System.Version();
  const runtime = await client._request('state_getRuntimeVersion', []);
  assert.equal(version.spec_name, 'thingschain');
  assert.equal(version.spec_version, runtime.specVersion);
  assert.ok(await api.query.Dpos.Candidates.getEntries().then((entries) => entries.length >= 1));
});

test('reads every constant and storage item of our pallets', async () => {
  // The typed API is a proxy; the descriptors list what it has, and their codecs how many
  // keys each storage item takes (none: a single value).
  const { constants, storage } = await thingschain.descriptors;
  const codecs = await getTypedCodecs(thingschain);
  let read = 0;
  for (const pallet of OUR_PALLETS) {
    for (const name of Object.keys(constants[pallet] ?? {})) {
      assert.notEqual(await api.constants[pallet][name](), undefined, `${pallet}.${name}`);
      read += 1;
    }
    for (const name of Object.keys(storage[pallet] ?? {})) {
      const item = api.query[pallet][name];
      const plain = codecs.query[pallet][name].args.inner.length === 0;
      const values = plain ? [await item.getValue()] : (await item.getEntries()).map((entry) => entry.value);
      assert.ok(values.every((value) => value !== undefined || plain), `${pallet}.${name}`);
      read += 1;
    }
  }
  assert.ok(read > 50, `${read} constants and storage items read`);
});

test('signs a transfer and a DPoS vote, and decodes their events', async () => {
  const alice = await devSigner('//Alice');
  const eve = await devSigner('//Eve');
  const transfer = await api.tx.Balances.transfer_keep_alive({ dest: Enum('Id', eve.address), value: 2n * TIC })
    .signAndSubmit(alice.signer);
  assert.ok(transfer.ok, JSON.stringify(transfer.dispatchError));
  const sent = api.event.Balances.Transfer.filter(transfer.events).map((e) => e.payload).find((t) => t.to === eve.address);
  assert.ok(sent, 'a transfer to Eve');
  assert.deepEqual([sent.from, sent.amount], [alice.address, 2n * TIC]);

  const vote = await api.tx.Utility.batch_all({
    calls: [api.tx.Dpos.bond({ amount: 100n * TIC }).decodedCall, api.tx.Dpos.vote({ targets: [alice.address] }).decodedCall],
  }).signAndSubmit(eve.signer);
  assert.ok(vote.ok, JSON.stringify(vote.dispatchError));
  const [{ payload: voted }] = api.event.Dpos.Voted.filter(vote.events);
  assert.deepEqual([voted.voter, voted.targets], [eve.address, [alice.address]]);
  const voter = await api.query.Dpos.Voters.getValue(eve.address);
  assert.deepEqual(voter.approvals.map((a) => a.candidate), [alice.address]);
});

test('decodes the events of every finalized block', async () => {
  const finalized = await client.getFinalizedBlock();
  const seen = new Set();
  for (let number = 1; number <= finalized.number; number += 1) {
    const hash = await client._request('chain_getBlockHash', [number]);
    for (const { event } of await api.query.System.Events.getValue({ at: hash })) {
      seen.add(`${event.type}.${event.value.type}`);
    }
  }
  for (const expected of ['Balances.Transfer', 'Dpos.Bonded', 'Dpos.Voted', 'Dpos.BlockRewarded']) {
    assert.ok(seen.has(expected), `${expected} among ${[...seen].join(', ')}`);
  }
});
