// Ferdie stakes 100 TIC and votes for Bob's delegate (its stash account, as zombienet names
// validators) through `nodeName`; returns how many candidates Ferdie's stored vote approves
// once the `dpos.Voted` event is in a block.
const { TIC, connect, devAccount, submit } = require("./chain.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  try {
    const ferdie = await devAccount("//Ferdie");
    const delegate = (await devAccount("//Bob//stash")).address;
    const vote = api.tx.utility.batchAll([api.tx.dpos.bond(100n * TIC), api.tx.dpos.vote([delegate])]);
    const events = await submit(api, vote, ferdie);
    const voted = events.find(({ event }) => api.events.dpos.Voted.is(event));
    if (!voted || voted.event.data.voter.toString() !== ferdie.address) {
      throw new Error("no dpos.Voted event for Ferdie");
    }
    const voter = (await api.query.dpos.voters(ferdie.address)).unwrap();
    const approved = voter.approvals.map((approval) => approval.candidate.toString());
    return approved.filter((target) => target === delegate).length;
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
