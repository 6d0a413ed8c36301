// The header: which chain and runtime the node runs, and its best and finalized blocks, live.
import { setText } from './dom.js';

/** Shows the chain's name and runtime version. */
export async function showChain(api) {
  const [chain, version] = await Promise.all([api.rpc.system.chain(), api.rpc.state.getRuntimeVersion()]);
  setText('chain-name', chain.toString());
  setText('runtime', `${version.specName} ${version.specVersion}`);
}

/**
 * Follows the node's best and finalized blocks, showing their numbers; hands each new best
 * header to `onBest`.
 */
export async function followHeads(api, onBest) {
  await Promise.all([
    api.rpc.chain.subscribeNewHeads((header) => {
      setText('best-block', `#${header.number.toNumber()}`);
      onBest(header);
    }),
    api.rpc.chain.subscribeFinalizedHeads((header) => {
      setText('finalized-block', `#${header.number.toNumber()}`);
    }),
  ]);
}
