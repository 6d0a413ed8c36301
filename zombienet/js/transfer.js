// Alice sends 1 TIC to a new account through `nodeName`; returns the TIC the account received.
const { TIC, connect, devAccount, submit } = require("./chain.js");

async function run(nodeName, networkInfo) {
  const api = await connect(networkInfo, nodeName);
  try {
    const alice = await devAccount("//Alice");
    const receiver = await devAccount("//ZombienetTransfer");
    const free = async () => (await api.query.system.account(receiver.address)).data.free.toBigInt();
    const before = await free();
    await submit(api, api.tx.balances.transferKeepAlive(receiver.address, TIC), alice);
    return Number((await free()) - before) / Number(TIC);
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
