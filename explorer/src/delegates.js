// Delegates: every candidate as the next election ranks it (the runtime's `DposApi`), whether
// it is in this session's authority set, what it could claim and the blocks it authored.
import { fillTable } from './dom.js';
import { account, balance, flag, perbill } from './format.js';

const COLUMNS = [
  ['rank', 'rank'],
  ['candidate', 'candidate'],
  ['delegate', 'delegate now'],
  ['next', 'next election'],
  ['selfBond', 'self-bond'],
  ['votes', 'votes'],
  ['voters', 'voters'],
  ['commission', 'commission'],
  ['rewards', 'claimable rewards'],
  ['authored', 'blocks this session'],
];

/** The candidates at `at` (an `api.at` view of one block), best first. */
export async function load(at) {
  const [candidates, validators] = await Promise.all([
    at.call.dposApi.candidates(),
    at.query.session.validators(),
  ]);
  const accounts = candidates.map((candidate) => candidate.account);
  const [authored, rewards] = await Promise.all([
    at.query.dpos.authoredBlocks.multi(accounts),
    Promise.all(accounts.map((who) => at.call.dposApi.pendingRewards(who))),
  ]);
  const delegates = new Set(validators.map(String));
  return candidates.map((candidate, i) => ({
    account: candidate.account.toString(),
    rank: candidate.rank.toNumber(),
    delegate: delegates.has(candidate.account.toString()),
    chilled: candidate.chilled.isTrue,
    elected: candidate.elected.isTrue,
    selfBond: candidate.selfBond.toBigInt(),
    votes: candidate.votes.toBigInt(),
    voters: candidate.voters.toNumber(),
    commission: candidate.commission.toNumber(),
    rewards: rewards[i].toBigInt(),
    authored: authored[i].toNumber(),
  }));
}

/** Shows the candidates [`load`] read, balances in `token`. */
export function render(candidates, token) {
  const rows = candidates.map((c) => ({
    key: c.account,
    rank: c.rank,
    candidate: account(c.account),
    delegate: flag(c.delegate),
    next: c.chilled ? 'chilled' : (c.elected ? 'elected' : 'not elected'),
    selfBond: balance(c.selfBond, token),
    votes: balance(c.votes, token),
    voters: c.voters,
    commission: perbill(c.commission),
    rewards: balance(c.rewards, token),
    authored: c.authored,
  }));
  fillTable(document.getElementById('delegates'), COLUMNS, rows, 'no candidates');
}
