// Votes: every account that votes directly or receives delegated power, with the candidates
// it approves and the power each of them gets from it (its own active stake plus what is
// delegated to it).
import { fillTable, h } from './dom.js';
import { account, balance } from './format.js';

const COLUMNS = [
  ['voter', 'voter'],
  ['approvals', 'approves'],
  ['power', 'power'],
  ['received', 'of which delegated'],
  ['delegators', 'delegators'],
];

/** The voters at `at` (an `api.at` view of one block), most powerful first. */
export async function load(at) {
  const entries = await at.query.dpos.voters.entries();
  const accounts = entries.map(([key]) => key.args[0]);
  const ledgers = await at.query.dpos.ledgers.multi(accounts);
  return entries.map(([key, stored], i) => {
    const voter = stored.unwrap();
    const own = ledgers[i].isSome ? ledgers[i].unwrap().active.toBigInt() : 0n;
    return {
      account: key.args[0].toString(),
      approvals: voter.approvals.map((approval) => approval.candidate.toString()),
      power: own + voter.received.toBigInt(),
      received: voter.received.toBigInt(),
      delegators: voter.delegators.toNumber(),
    };
  }).sort((a, b) => (a.power === b.power ? 0 : (a.power > b.power ? -1 : 1)));
}

/** Shows the voters [`load`] read, balances in `token`. */
export function render(voters, token) {
  const rows = voters.map((v) => ({
    key: v.account,
    voter: account(v.account),
    approvals: v.approvals.length ? h('ul', { class: 'accounts' }, v.approvals.map((a) => h('li', {}, account(a)))) : '—',
    power: balance(v.power, token),
    received: balance(v.received, token),
    delegators: v.delegators,
  }));
  fillTable(document.getElementById('votes'), COLUMNS, rows, 'no votes');
}
