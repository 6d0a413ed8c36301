// Polkadot.js (the library behind Polkadot.js Apps) against a real `thingschain --dev` node:
// it connects, reads chain metadata and balances, signs a transfer and a staking vote with our
// transaction extensions, reads the delegate ranking over the `dpos_*` RPC, signs as a
// token-less device whose owner pays the fee, calls each of our pallets, and decodes every
// constant, storage item and event of our pallets. No type bundle: the types come from the
// node's metadata alone, as they do for Polkadot.js Apps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { startDevNode } from './dev-node.mjs';
import { stringCamelCase } from '@polkadot/util';
import { TIC, devAccount, registerDevice, sealedRecord, signAndFinalize } from './pjs.mjs';

let node;
let api;
let provider;

before(async () => {
  node = await startDevNode();
  provider = new WsProvider(node.url);
  api = await ApiPromise.create({ provider, throwOnConnect: true, noInitWarn: true });
});

after(async () => {
  await api?.disconnect();
  node?.stop();
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
  const alice = await devAccount('//Alice');
  const charlie = await devAccount('//Charlie');
  const before = (await api.query.system.account(charlie.address)).data.free.toBigInt();

  const result = await signAndFinalize(api.tx.balances.transferKeepAlive(charlie.address, 3n * TIC), alice);
  assert.ok(result, 'finalized in a block');

  const after = (await api.query.system.account(charlie.address)).data.free.toBigInt();
  assert.equal(after - before, 3n * TIC);
});

test('stakes and votes for a delegate, and reads the ranking over dpos_candidates', async () => {
  const alice = await devAccount('//Alice');
  const bob = await devAccount('//Bob');
  const vote = api.tx.utility.batchAll([api.tx.dpos.bond(100n * TIC), api.tx.dpos.vote([alice.address])]);
  await signAndFinalize(vote, bob);

  const ledger = (await api.query.dpos.ledgers(bob.address)).unwrap();
  assert.equal(ledger.active.toBigInt(), 100n * TIC);
  const candidates = await provider.send('dpos_candidates', []);
  const entry = candidates.find((c) => c.account === alice.address);
  assert.ok(entry, `Alice is listed: ${JSON.stringify(candidates)}`);
  // Genesis: a 1000 TIC self-bond and 2000 TIC from Alice's stash; now 100 TIC from Bob.
  assert.equal(BigInt(entry.total), 3100n * TIC);
  assert.equal(entry.voters, 2);
  assert.equal(entry.elected, true);
  const pending = await provider.send('dpos_pendingRewards', [alice.address]);
  assert.ok(BigInt(pending) > 0n, `Alice earned block rewards: ${pending}`);
});

test('a device without tokens signs a mortal record transaction its owner pays for', async () => {
  const dave = await devAccount('//Dave');
  const reader = '0x' + '11'.repeat(32);
  const { deviceId, device } = await registerDevice(api, dave, reader);

  const before = (await api.query.system.account(dave.address)).data;
  const record = sealedRecord(api, reader);
  const block = await signAndFinalize(record, device);
  assert.ok(record.era.isMortalEra, 'Polkadot.js signs devices\' transactions mortal');

  const events = await (await api.at(block)).query.system.events();
  const feePaid = events.find(({ event }) => api.events.transactionPayment.TransactionFeePaid.is(event)
    && event.data.who.toString() === device.address);
  assert.ok(feePaid, 'the device transaction paid a fee');
  const fee = feePaid.event.data.actualFee.toBigInt();
  const after = (await api.query.system.account(dave.address)).data;
  const deposit = after.reserved.toBigInt() - before.reserved.toBigInt();
  assert.ok(fee > 0n && deposit > 0n);
  assert.equal(before.free.toBigInt() - after.free.toBigInt(), fee + deposit, 'Dave paid fee and deposit');
  assert.equal((await api.query.system.account(device.address)).data.free.toBigInt(), 0n);
  const stored = (await api.query.payloads.records(deviceId, 0)).unwrap();
  assert.ok(stored.payload.isEncrypted);
});

/** Our pallets, as Polkadot.js names their sections. */
const OUR_PALLETS = ['dpos', 'auraEquivocation', 'serviceRegistry', 'nestAnchor', 'nestPeg', 'devices', 'payloads'];

/** Signs `tx` as `signer`; resolves once it is finalized with its events and its module error (by name), if any. */
function submitAndDecode(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (!status.isFinalized) return;
      const error = dispatchError?.isModule ? api.registry.findMetaError(dispatchError.asModule) : null;
      resolve({ events, error: error && `${error.section}.${error.name}`, failed: Boolean(dispatchError) });
    }).catch(reject);
  });
}

test('one call of each of our other pallets, its outcome decoded from metadata alone', async () => {
  const [bob, charlie] = [await devAccount('//Bob'), await devAccount('//Charlie')];
  // A super node stakes the runtime's minimum (a constant read from metadata).
  const stake = api.consts.serviceRegistry.minSuperNodeStake.toBigInt();
  const registered = await submitAndDecode(api.tx.serviceRegistry.registerSuperNode(stake), charlie);
  assert.equal(registered.error, null);
  const event = registered.events.find(({ event }) => api.events.serviceRegistry.SuperNodeRegistered.is(event));
  assert.ok(event, 'serviceRegistry.SuperNodeRegistered');
  assert.equal(event.event.data[0].toString(), charlie.address);

  // Calls that fail on this chain, each with its pallet's named error.
  const header = await api.rpc.chain.getHeader();
  const zero = '0x' + '00'.repeat(32);
  const refused = [
    [api.tx.nestAnchor.attest(99, 0, zero, zero), 'nestAnchor.UnknownService'],
    [api.tx.nestPeg.transfer(99, zero, bob.address), 'nestPeg.'],
    [
      api.tx.auraEquivocation.reportEquivocation(
        { offender: bob.publicKey, slot: 1, firstHeader: header, secondHeader: header },
        { session: 0, trieNodes: [], validatorCount: 1 },
      ),
      'auraEquivocation.',
    ],
  ];
  for (const [tx, expected] of refused) {
    const { error, failed } = await submitAndDecode(tx, bob);
    assert.ok(failed && error?.startsWith(expected), `${tx.method.section}.${tx.method.method}: ${error}`);
  }
});

test('decodes every constant, storage item and event of our pallets from metadata alone', async () => {
  const pallets = api.runtimeMetadata.asLatest.pallets.filter((p) => OUR_PALLETS.includes(stringCamelCase(p.name)));
  assert.equal(pallets.length, OUR_PALLETS.length);
  let decoded = 0;
  for (const pallet of pallets) {
    const section = stringCamelCase(pallet.name);
    for (const constant of pallet.constants) {
      const value = api.consts[section][stringCamelCase(constant.name)];
      assert.ok(value !== undefined && value.toJSON() !== undefined, `${section}.${constant.name}`);
      decoded += 1;
    }
    for (const item of pallet.storage.unwrap().items) {
      const query = api.query[section][stringCamelCase(item.name)];
      const values = item.type.isPlain ? [await query()] : (await query.entries()).map(([, value]) => value);
      for (const value of values) assert.notEqual(value.toJSON(), undefined, `${section}.${item.name}`);
      decoded += values.length;
    }
    // Every event's fields are types the registry builds from the metadata's type table.
    for (const variant of api.registry.lookup.getSiType(pallet.events.unwrap().type).def.asVariant.variants) {
      assert.ok(api.events[section][variant.name.toString()], `${section}.${variant.name} is known`);
      for (const field of variant.fields) api.registry.createType(api.registry.createLookupType(field.type));
    }
  }
  assert.ok(decoded > 50, `${decoded} constants and stored values decoded`);

  // The events the tests above caused, read back from every finalized block: ours decode
  // with their fields' names.
  const finalized = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  const seen = new Set();
  for (let number = 1; number <= finalized; number += 1) {
    const at = await api.at(await api.rpc.chain.getBlockHash(number));
    for (const { event } of await at.query.system.events()) {
      if (!OUR_PALLETS.includes(event.section)) continue;
      assert.equal(event.data.names?.length ?? 0, event.meta.fields.length, `${event.section}.${event.method}`);
      assert.ok(event.toHuman(), `${event.section}.${event.method} decodes`);
      seen.add(`${event.section}.${event.method}`);
    }
  }
  for (const expected of ['dpos.Bonded', 'dpos.Voted', 'devices.DeviceRegistered', 'payloads.RecordStored',
    'serviceRegistry.SuperNodeRegistered']) {
    assert.ok(seen.has(expected), `${expected} among ${[...seen].join(', ')}`);
  }
});
