// NestChain services: their terms and nodes, the latest epoch each anchored on WebChain (with
// its Merkle root) and the epoch whose roots are proposed but not yet anchored.
import { fillTable, h } from './dom.js';
import { account, hash } from './format.js';

const COLUMNS = [
  ['id', 'id'],
  ['name', 'name'],
  ['owner', 'owner'],
  ['quorum', 'quorum'],
  ['epochLength', 'epoch (blocks)'],
  ['nodes', 'nodes'],
  ['status', 'status'],
  ['latest', 'latest anchor'],
  ['pending', 'pending'],
];

/** One service's anchoring state at `at`: its latest anchor (epoch, block, root) and pending epoch. */
async function anchoring(at, id) {
  const [latest, pending] = await Promise.all([at.query.nestAnchor.latest(id), at.query.nestAnchor.pending(id)]);
  let anchor = null;
  if (latest.isSome) {
    const { epoch, anchoredAt } = latest.unwrap();
    const stored = await at.query.nestAnchor.anchors(id, epoch);
    anchor = {
      epoch: epoch.toNumber(),
      anchoredAt: anchoredAt.toNumber(),
      root: stored.unwrap().root.toHex(),
      skipped: stored.unwrap().skipped.isTrue,
    };
  }
  const proposed = pending.isSome ? { epoch: pending.unwrap()[0].toNumber(), roots: pending.unwrap()[1].length } : null;
  return { anchor, proposed };
}

/** The services at `at` (an `api.at` view of one block), by id. */
export async function load(at) {
  const entries = await at.query.serviceRegistry.services.entries();
  const services = await Promise.all(entries.map(async ([key, stored]) => {
    const id = key.args[0];
    const service = stored.unwrap();
    return {
      id: id.toNumber(),
      name: service.name.toUtf8(),
      owner: service.owner.toString(),
      quorum: service.quorum.toNumber(),
      epochLength: service.epochLength.toNumber(),
      nodes: service.nodes.map(String),
      status: service.status.type,
      ...await anchoring(at, id),
    };
  }));
  return services.sort((a, b) => a.id - b.id);
}

/** A service's latest anchor cell. */
function latestCell({ anchor }) {
  if (!anchor) return 'none yet';
  if (anchor.skipped) return `epoch ${anchor.epoch} (skipped at #${anchor.anchoredAt})`;
  return [`epoch ${anchor.epoch} at #${anchor.anchoredAt}, root `, hash(anchor.root)];
}

/** Shows the services [`load`] read. */
export function render(services) {
  const rows = services.map((s) => ({
    key: s.id,
    id: s.id,
    name: s.name,
    owner: account(s.owner),
    quorum: s.quorum,
    epochLength: s.epochLength,
    nodes: s.nodes.length ? h('ul', { class: 'accounts' }, s.nodes.map((node) => h('li', {}, account(node)))) : 'none',
    status: s.status,
    latest: latestCell(s),
    pending: s.proposed ? `epoch ${s.proposed.epoch}: ${s.proposed.roots} root(s) proposed` : '—',
  }));
  fillTable(document.getElementById('services'), COLUMNS, rows, 'no services');
}
