// Polkadot.js helpers the client tests share: a connection, dev accounts, finalized
// submissions, and a device onboarded by its owner with the device key's proof of possession.
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady, mnemonicGenerate } from '@polkadot/util-crypto';
import { stringToU8a, u8aConcat, u8aToHex } from '@polkadot/util';

/** One TIC in plancks (12 decimals). */
export const TIC = 10n ** 12n;

/**
 * Polkadot.js connected to the node at `url` (`ws://`), its types from the node's metadata
 * alone; rejects if the node cannot be reached.
 */
export function connect(url) {
  return ApiPromise.create({ provider: new WsProvider(url), throwOnConnect: true, noInitWarn: true });
}

/** The sr25519 dev account of `uri` (`//Alice`, ...). */
export async function devAccount(uri) {
  await cryptoWaitReady();
  return new Keyring({ type: 'sr25519' }).addFromUri(uri);
}

/** Signs `tx` as `signer` and resolves with the finalized block hash; rejects on a dispatch error. */
export function signAndFinalize(tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, dispatchError }) => {
      if (dispatchError) reject(new Error(dispatchError.toString()));
      else if (status.isFinalized) resolve(status.asFinalized);
    }).catch(reject);
  });
}

/**
 * `owner` registers a new device key (with the key's signature of its binding to `owner` on
 * this chain, at its nonce 0) and grants `reader`; resolves with the device's id and key pair.
 */
export async function registerDevice(api, owner, reader) {
  await cryptoWaitReady();
  const device = new Keyring({ type: 'sr25519' }).addFromUri(mnemonicGenerate());
  const limits = { window: 100, maxTransactions: 10, maxFees: TIC, maxDeposits: TIC };
  const deviceId = (await api.query.devices.nextDeviceId()).toNumber();
  const binding = u8aConcat(
    stringToU8a('tc/device/bind/1'),
    api.genesisHash.toU8a(),
    owner.publicKey,
    api.createType('u32', 0).toU8a(),
  );
  const proof = { Sr25519: u8aToHex(device.sign(binding)) };
  await signAndFinalize(
    api.tx.utility.batchAll([
      // Records kept an hour (1,800 2-second blocks): the runtime's shortest retention.
      api.tx.devices.register(device.address, proof, 'Sensor', null, 'js test', 1800, limits),
      api.tx.payloads.grantReader(deviceId, reader),
    ]),
    owner,
  );
  return { deviceId, device };
}

/** A `payloads.store` of one sealed reading for `reader` (the envelope's fields, not real crypto). */
export function sealedRecord(api, reader) {
  return api.tx.payloads.store({
    Encrypted: {
      version: 2,
      algorithm: 'X25519XChaCha20Poly1305',
      ephemeralKey: '0x' + '01'.repeat(32),
      nonce: '0x' + '02'.repeat(24),
      sequence: 1,
      body: { Inline: '0x' + 'c1'.repeat(40) },
      recipients: [{ reader, wrappedKey: '0x' + '07'.repeat(48) }],
    },
  });
}
