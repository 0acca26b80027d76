// simulate.js — records what CosmJS sends to estimate gas ("auto" fees): the
// /cosmos.tx.v1beta1.Service/Simulate request of @cosmjs/stargate's tx
// extension (Tx with Fee{}, SIGN_MODE_UNSPECIFIED and an empty signature),
// for a MsgSend from the fixed key 0x01..0x20 at sequence 0. CosmJS's own
// code builds the bytes; a stand-in CometBFT client only captures them.
// Run: cd /tmp/cosmjs && npm install @cosmjs/proto-signing@0.39.0 @cosmjs/stargate@0.39.0
//      NODE_PATH=/tmp/cosmjs/node_modules node simulate.js > vector_simulate.json
// test_chain_vectors sends the captured request to the chain and expects a
// successful simulation with the gas a signed tx of the same message uses.
const { DirectSecp256k1Wallet } = require("@cosmjs/proto-signing");
const { QueryClient, setupTxExtension } = require("@cosmjs/stargate");

(async () => {
  const sk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const wallet = await DirectSecp256k1Wallet.fromKey(sk, "wicas");
  const [account] = await wallet.getAccounts();
  const to = "wicas1yruet4gt0k8hdmja7wmeuq48c6n7hxdegrmnuh";
  let captured = null;
  const comet = {
    abciQuery: async (q) => {
      captured = q;
      throw new Error("captured");
    },
  };
  const qc = QueryClient.withExtensions(comet, setupTxExtension);
  const { MsgSend } = require("cosmjs-types/cosmos/bank/v1beta1/tx");
  const any = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: MsgSend.encode(
      MsgSend.fromPartial({ fromAddress: account.address, toAddress: to, amount: [{ denom: "uwicas", amount: "1234" }] }),
    ).finish(),
  };
  try {
    await qc.tx.simulate([any], "cosmjs simulate", { type: "tendermint/PubKeySecp256k1", value: Buffer.from(account.pubkey).toString("base64") }, 0);
  } catch (e) {
    if (!captured) throw e;
  }
  console.log(JSON.stringify({
    from: account.address, to, amount: "1234uwicas", memo: "cosmjs simulate",
    path: captured.path,
    request_hex: Buffer.from(captured.data).toString("hex"),
  }, null, 1));
})();
