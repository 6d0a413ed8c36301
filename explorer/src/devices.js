// Devices and their recent records. A sealed record is shown as what the chain holds, an
// envelope of ciphertext: who it is sealed for, its nonce and sequence, the ciphertext's
// length and first bytes. The page holds no reader key and never pretends to decrypt.
import { fillTable } from './dom.js';
import { account, balance, bytes, hash, hexPrefix } from './format.js';

/** Records read back per device, newest first. */
const RECENT_PER_DEVICE = 5;
/** Records shown, newest first over every device. */
const RECENT_SHOWN = 20;
/** Ciphertext bytes shown as hex. */
const CIPHERTEXT_PREFIX = 8;

const DEVICE_COLUMNS = [
  ['id', 'id'],
  ['owner', 'owner'],
  ['signingKey', 'key'],
  ['kind', 'kind'],
  ['service', 'service'],
  ['status', 'status'],
  ['retention', 'retention (blocks)'],
  ['records', 'records (live / stored)'],
  ['metadata', 'metadata'],
];

const RECORD_COLUMNS = [
  ['device', 'device'],
  ['record', 'record'],
  ['storedAt', 'stored at'],
  ['expiresAt', 'expires at'],
  ['payload', 'payload'],
  ['sequence', 'sequence'],
  ['nonce', 'nonce'],
  ['data', 'data'],
  ['deposit', 'deposit'],
];

/** A device's place in its service: the id, and whether its owner admitted it. */
function membership({ service, status }) {
  const id = service.toNumber();
  if (status.isRequested) return `${id} (asked to join)`;
  return status.asAdmitted.mayLock.isTrue ? `${id} (may lock value)` : `${id}`;
}

/** The devices at `at` (an `api.at` view of one block) with their record ledgers, by id. */
async function loadDevices(at) {
  const entries = await at.query.devices.devices.entries();
  const ids = entries.map(([key]) => key.args[0]);
  const ledgers = await at.query.payloads.ledgers.multi(ids);
  return entries.map(([key, stored], i) => {
    const device = stored.unwrap();
    return {
      id: key.args[0].toNumber(),
      owner: device.owner.toString(),
      key: device.key.toString(),
      kind: device.kind.type,
      service: device.service.isSome ? membership(device.service.unwrap()) : null,
      status: device.status.type,
      retention: device.retention.toNumber(),
      metadata: device.metadata.toUtf8(),
      live: ledgers[i].live.toNumber(),
      stored: ledgers[i].nextRecord.toNumber(),
    };
  }).sort((a, b) => a.id - b.id);
}

/** What a record's payload shows: an envelope's outline, or public data as text or hex. */
function describePayload(payload) {
  if (payload.isPublic) {
    return { payload: 'public', data: bytes(payload.asPublic.toU8a(true)) };
  }
  const envelope = payload.asEncrypted;
  const readers = envelope.recipients.length;
  const body = envelope.body;
  const data = body.isInline
    ? `ciphertext ${body.asInline.length} bytes ${hexPrefix(body.asInline.toU8a(true), CIPHERTEXT_PREFIX)}`
    : `ciphertext ${body.asExternal.size.toString()} bytes off chain at ${bytes(body.asExternal.locator.toU8a(true))}, BLAKE2-256 ${hexPrefix(body.asExternal.hash.toU8a(), CIPHERTEXT_PREFIX)}`;
  return {
    payload: `sealed for ${readers} reader${readers === 1 ? '' : 's'}`,
    sequence: envelope.sequence.toString(),
    nonce: envelope.nonce.toHex(),
    data,
  };
}

/** The newest records of `devices` at `at`, newest first over every device. */
async function loadRecords(at, devices) {
  const keys = devices.flatMap((device) => {
    const first = Math.max(0, device.stored - RECENT_PER_DEVICE);
    return Array.from({ length: device.stored - first }, (_, i) => [device.id, device.stored - 1 - i]);
  });
  const stored = keys.length ? await at.query.payloads.records.multi(keys) : [];
  return stored.flatMap((record, i) => {
    if (record.isNone) return []; // reaped or removed
    const { payload, deposit, storedAt, expiresAt } = record.unwrap();
    return [{
      device: keys[i][0],
      record: keys[i][1],
      storedAt: storedAt.toNumber(),
      expiresAt: expiresAt.toNumber(),
      deposit: deposit.toBigInt(),
      ...describePayload(payload),
    }];
  }).sort((a, b) => b.storedAt - a.storedAt || a.device - b.device || b.record - a.record)
    .slice(0, RECENT_SHOWN);
}

/** The devices at `at` (an `api.at` view of one block) and their newest records. */
export async function load(at) {
  const devices = await loadDevices(at);
  return { devices, records: await loadRecords(at, devices) };
}

/** Shows the devices and records [`load`] read, deposits in `token`. */
export function render({ devices, records }, token) {
  fillTable(document.getElementById('devices'), DEVICE_COLUMNS, devices.map((d) => ({
    key: d.id,
    id: d.id,
    owner: account(d.owner),
    signingKey: account(d.key),
    kind: d.kind,
    service: d.service ?? '—',
    status: d.status,
    retention: d.retention,
    records: `${d.live} / ${d.stored}`,
    metadata: d.metadata,
  })), 'no devices');
  fillTable(document.getElementById('records'), RECORD_COLUMNS, records.map((r) => ({
    ...r,
    key: `${r.device}/${r.record}`,
    storedAt: `#${r.storedAt}`,
    expiresAt: `#${r.expiresAt}`,
    nonce: r.nonce ? hash(r.nonce) : '—',
    sequence: r.sequence ?? '—',
    deposit: balance(r.deposit, token),
  })), 'no records');
}
