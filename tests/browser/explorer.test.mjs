// The explorer page (explorer/) in headless Chromium against a real `thingschain --dev` node:
// it loads, shows what the chain holds (Alice as the genesis delegate, a NestChain service, a
// device and its sealed record shown as ciphertext) and follows new blocks. The browser is
// Debian's `chromium` (CHROMIUM_BIN overrides), driven by playwright-core; with
// EXPLORER_SCREENSHOT=1 the run also refreshes docs/explorer.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startDevNode } from '../js/dev-node.mjs';
import { TIC, connect, devAccount, registerDevice, sealedRecord, signAndFinalize } from '../js/pjs.mjs';

const SERVE = fileURLToPath(new URL('../../explorer/serve.mjs', import.meta.url));
const SCREENSHOT = fileURLToPath(new URL('../../docs/explorer.png', import.meta.url));
const SERVICE_NAME = 'Weather stations';

let node;
let api;
let explorer;
let browser;
let page;
let alice;
let deviceId;
const pageErrors = [];

/**
 * Starts explorer/serve.mjs on a free port, its page pointed at the node at `rpc`; resolves
 * with the server process and the page's URL once it listens.
 */
async function startExplorer(rpc) {
  const server = spawn(process.execPath, [SERVE, '--port', '0', '--rpc', rpc], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = () => server.kill();
  // Also when the test process ends early (a failure, a timeout).
  process.on('exit', stop);
  for await (const line of createInterface({ input: server.stdout })) {
    const listening = /^explorer: (\S+)$/.exec(line);
    if (listening) return { url: listening[1], stop };
  }
  throw new Error('explorer/serve.mjs exited before it listened');
}

/** The cell `field` of the row `key` of the page's table `table`. */
function cell(table, key, field) {
  return page.locator(`#${table} tr[data-key="${key}"] td[data-field="${field}"]`);
}

/** The block number the page shows in the header element `id`. */
async function shownNumber(id) {
  return Number((await page.locator(`#${id}`).textContent()).replace('#', ''));
}

before(async () => {
  node = await startDevNode();
  api = await connect(node.url);
  alice = await devAccount('//Alice');
  const dave = await devAccount('//Dave');
  const reader = '0x' + '11'.repeat(32);
  // A service (created by sudo: the runtime's CreateOrigin is root) and a device of Dave's
  // with one sealed record; Alice's candidacy and her stash's vote come from genesis.
  const [, device] = await Promise.all([
    signAndFinalize(api.tx.sudo.sudo(api.tx.serviceRegistry.createService(alice.address, SERVICE_NAME, 2, 50)), alice),
    registerDevice(api, dave, reader),
  ]);
  deviceId = device.deviceId;
  // Dave's device asks to join Alice's service: only she could admit it.
  await signAndFinalize(api.tx.devices.joinService(deviceId, 0), dave);
  await signAndFinalize(sealedRecord(api, reader), device.device);

  explorer = await startExplorer(node.url);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (error) => pageErrors.push(error));
  await page.goto(explorer.url);
});

after(async () => {
  await browser?.close();
  explorer?.stop();
  await api?.disconnect();
  node?.stop();
});

test('shows the chain and Alice as the elected genesis delegate with her self-bond', async () => {
  await cell('delegates', alice.address, 'candidate').waitFor();
  assert.equal(await page.locator('#chain-name').textContent(), 'ThingsChain Development');
  // The dev preset's genesis: a 1,000 TIC self-bond and a 2,000 TIC vote from Alice//stash.
  assert.equal((await api.query.dpos.backings(alice.address)).unwrap().selfBond.toBigInt(), 1000n * TIC);
  assert.equal(await cell('delegates', alice.address, 'selfBond').textContent(), '1,000 TIC');
  assert.equal(await cell('delegates', alice.address, 'votes').textContent(), '2,000 TIC');
  assert.equal(await cell('delegates', alice.address, 'delegate').textContent(), 'yes');
  assert.equal(await cell('delegates', alice.address, 'next').textContent(), 'elected');
  const approvedAlice = page.locator(`#votes td[data-field="approvals"] [data-address="${alice.address}"]`);
  assert.equal(await approvedAlice.count(), 1, 'her stash\'s vote approves her');
});

test('shows the NestChain service, not yet anchored', async () => {
  await cell('services', 0, 'name').waitFor();
  assert.equal(await cell('services', 0, 'name').textContent(), SERVICE_NAME);
  assert.equal(await cell('services', 0, 'status').textContent(), 'Suspended', 'no trusted nodes yet');
  assert.equal(await cell('services', 0, 'latest').textContent(), 'none yet');
});

test('shows the device and its record as sealed ciphertext, never decrypted', async () => {
  await cell('records', `${deviceId}/0`, 'payload').waitFor();
  assert.equal(await cell('devices', deviceId, 'kind').textContent(), 'Sensor');
  assert.equal(await cell('devices', deviceId, 'service').textContent(), '0 (asked to join)');
  assert.equal(await cell('devices', deviceId, 'records').textContent(), '1 / 1');
  assert.equal(await cell('devices', deviceId, 'metadata').textContent(), 'js test');
  assert.equal(await cell('records', `${deviceId}/0`, 'payload').textContent(), 'sealed for 1 reader');
  assert.equal(await cell('records', `${deviceId}/0`, 'sequence').textContent(), '1');
  // sealedRecord's 40 bytes of 0xc1: the length and the first 8 bytes, as the chain holds them.
  assert.equal(await cell('records', `${deviceId}/0`, 'data').textContent(), 'ciphertext 40 bytes 0xc1c1c1c1c1c1c1c1…');
});

test('follows new blocks: the numbers and the delegate\'s rewards move', async () => {
  const [best, shown] = [await shownNumber('best-block'), await shownNumber('shown-block')];
  const rewards = await cell('delegates', alice.address, 'rewards').textContent();
  await page.waitForFunction(([bestBefore, shownBefore]) => {
    const number = (id) => Number(document.getElementById(id).textContent.replace('#', ''));
    return number('best-block') > bestBefore && number('shown-block') > shownBefore;
  }, [best, shown]);
  // Every block mints a reward for its delegate (Alice, the only one) and her voters.
  await page.waitForFunction(([address, before]) => document
    .querySelector(`#delegates tr[data-key="${address}"] td[data-field="rewards"]`).textContent !== before,
  [alice.address, rewards]);
  assert.ok(await shownNumber('finalized-block') > 0, 'GRANDPA finalizes');
  assert.doesNotMatch(await page.locator('#status').textContent(), /could not|cannot/);
  assert.deepEqual(pageErrors, []);

  const png = await page.screenshot({ fullPage: true });
  assert.ok(png.length > 10_000, 'a screenshot of the page');
  if (process.env.EXPLORER_SCREENSHOT === '1') await writeFile(SCREENSHOT, png);
});

test('shows on-chain text as text: a service named in markup makes no element', async () => {
  const name = '<img src=x onerror="window.injected = true"> <b>bold</b>';
  // In a best block is enough: the page follows best blocks.
  await api.tx.sudo.sudo(api.tx.serviceRegistry.createService(alice.address, name, 1, 50)).signAndSend(alice);
  const cellOfName = cell('services', 1, 'name');
  await cellOfName.waitFor();
  assert.equal(await cellOfName.textContent(), name);
  assert.equal(await cellOfName.locator('img, b').count(), 0);
  assert.equal(await page.evaluate(() => window.injected), undefined);
});
