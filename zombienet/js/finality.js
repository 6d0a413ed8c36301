// Resolves once `nodeName` has finalized `args[0]` more blocks than when it was called.
const { connect, finalizedPast } = require("./chain.js");

async function run(nodeName, networkInfo, args) {
  const api = await connect(networkInfo, nodeName);
  try {
    return await finalizedPast(api, Number(args[0]));
  } finally {
    await api.disconnect();
  }
}

module.exports = { run };
