// What the zombienet checks share: a Polkadot.js (16.5) connection to a node of the network,
// dev accounts, and a transaction submitted until it is in a block.
const { ApiPromise, WsProvider } = require("@polkadot/api");
const { Keyring } = require("@polkadot/keyring");
const { cryptoWaitReady } = require("@polkadot/util-crypto");

/** One TIC in plancks (12 decimals). */
const TIC = 10n ** 12n;

/** An API on `nodeName`'s RPC; types come from the node's metadata alone. */
function connect(networkInfo, nodeName) {
  const { wsUri } = networkInfo.nodesByName[nodeName];
  return ApiPromise.create({ provider: new WsProvider(wsUri), noInitWarn: true });
}

/** The sr25519 dev account of `uri` (`//Alice`, ...). */
async function devAccount(uri) {
  await cryptoWaitReady();
  return new Keyring({ type: "sr25519", ss58Format: 42 }).addFromUri(uri);
}

/**
 * Signs `tx` as `signer`; resolves with the block's events once it is in a block, rejects with
 * the module error's name if it fails.
 */
function submit(api, tx, signer) {
  return new Promise((resolve, reject) => {
    tx.signAndSend(signer, ({ status, events, dispatchError }) => {
      if (dispatchError) {
        const error = dispatchError.isModule
          ? api.registry.findMetaError(dispatchError.asModule)
          : { section: "", name: dispatchError.toString() };
        reject(new Error(`${tx.method.section}.${tx.method.method} failed: ${error.section}.${error.name}`));
      } else if (status.isInBlock) {
        resolve(events);
      }
    }).catch(reject);
  });
}

/** Resolves once `api`'s node has finalized `count` blocks past the one it finalized now. */
async function finalizedPast(api, count) {
  const start = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  await new Promise((resolve) => {
    api.rpc.chain.subscribeFinalizedHeads((header) => {
      if (header.number.toNumber() >= start + count) resolve();
    });
  });
  return start + count;
}

module.exports = { TIC, connect, devAccount, submit, finalizedPast };
