// The connection to a ThingsChain node: Polkadot.js over the node's WebSocket RPC, with every
// type taken from the node's metadata (no type bundle), as Polkadot.js Apps does.
import { ApiPromise, WsProvider } from '@polkadot/api';

/** Where the page looks for a node without `?rpc=`: a dev node started by `scripts/dev.sh`. */
export const DEFAULT_RPC = 'ws://127.0.0.1:9944';

/** The node's WebSocket URL: the page's `?rpc=` parameter, else [`DEFAULT_RPC`]. */
export function rpcUrl(pageUrl) {
  return new URL(pageUrl).searchParams.get('rpc') || DEFAULT_RPC;
}

/**
 * Connects to the node at `url`, telling `onStatus(message, problem)` whenever the socket
 * connects or drops (the provider reconnects by itself); resolves once the node's metadata
 * is loaded.
 */
export async function connect(url, onStatus) {
  const provider = new WsProvider(url);
  provider.on('connected', () => onStatus(`connected to ${url}`));
  provider.on('disconnected', () => onStatus(`disconnected from ${url}, reconnecting…`, true));
  provider.on('error', () => onStatus(`cannot reach ${url}, retrying…`, true));
  return ApiPromise.create({ provider, noInitWarn: true });
}

/** The chain's token as its properties name it: `{ decimals, symbol }`. */
export function tokenOf(api) {
  return { decimals: api.registry.chainDecimals[0], symbol: api.registry.chainTokens[0] };
}
