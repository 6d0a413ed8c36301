// The explorer page: connects to the node named by `?rpc=`, then on every new best block
// reads each panel's data at that block and renders them all together.
import { followHeads, showChain } from './chain.js';
import { connect, rpcUrl, tokenOf } from './connection.js';
import { setText } from './dom.js';
import { latestOnly } from './refresh.js';
import * as delegates from './delegates.js';
import * as devices from './devices.js';
import * as services from './services.js';
import * as votes from './votes.js';

/** The panels, each with `load(at)` (an `api.at` view of one block) and `render(data, token)`. */
const PANELS = [delegates, votes, services, devices];

/** Shows `message` in the status line, marked as a problem when `problem`. */
function status(message, problem = false) {
  const line = document.getElementById('status');
  line.textContent = message;
  line.classList.toggle('problem', problem);
}

/**
 * Reads every panel at the block of `header`, then renders them together: the page never
 * shows two blocks at once, nor a half-read one.
 */
async function show(api, token, header) {
  const at = await api.at(header.hash);
  const data = await Promise.all(PANELS.map((panel) => panel.load(at)));
  PANELS.forEach((panel, i) => panel.render(data[i], token));
  setText('shown-block', `#${header.number.toNumber()}`);
}

/** Connects and follows the chain. */
async function main() {
  const url = rpcUrl(window.location.href);
  status(`connecting to ${url}…`);
  const api = await connect(url, status);
  const token = tokenOf(api);
  await showChain(api);
  const refresh = latestOnly(async (header) => {
    await show(api, token, header);
    status(`live from ${url}`);
  }, (error) => status(`could not read the chain: ${error.message}`, true));
  await followHeads(api, refresh);
}

main().catch((error) => status(error.message, true));
