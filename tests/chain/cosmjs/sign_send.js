// sign_send.js — produces a test vector with a real Cosmos client (CosmJS):
// a MsgSend signed with SIGN_MODE_DIRECT for chain-id "wicas-test" by the
// fixed secret key 0x01..0x20 (bytes 1..32), account number 0, sequence 0.
// Run: cd /tmp/cosmjs && npm install @cosmjs/proto-signing@0.32 @cosmjs/stargate@0.32
//      NODE_PATH=/tmp/cosmjs/node_modules node sign_send.js > vector_send.json
// The chain test (test_chain_vectors) checks that the node accepts the tx and
// that our own builder produces the identical bytes (RFC 6979 signatures are
// deterministic).
const { DirectSecp256k1Wallet } = require("@cosmjs/proto-signing");
const { SigningStargateClient } = require("@cosmjs/stargate");
const { TxRaw } = require("cosmjs-types/cosmos/tx/v1beta1/tx");

(async () => {
  const sk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const wallet = await DirectSecp256k1Wallet.fromKey(sk, "wicas");
  const [account] = await wallet.getAccounts();
  const client = await SigningStargateClient.offline(wallet);
  const to = "wicas1yruet4gt0k8hdmja7wmeuq48c6n7hxdegrmnuh";
  const msg = {
    typeUrl: "/cosmos.bank.v1beta1.MsgSend",
    value: { fromAddress: account.address, toAddress: to, amount: [{ denom: "uwicas", amount: "1234" }] },
  };
  const fee = { amount: [{ denom: "uwicas", amount: "2000" }], gas: "200000" };
  const signed = await client.sign(account.address, [msg], fee, "cosmjs vector",
                                   { accountNumber: 0, sequence: 0, chainId: "wicas-test" });
  const bytes = TxRaw.encode(signed).finish();
  console.log(JSON.stringify({
    chain_id: "wicas-test", account_number: 0, sequence: 0,
    from: account.address, to, amount: "1234uwicas", fee: "2000uwicas", gas: 200000, memo: "cosmjs vector",
    pubkey_hex: Buffer.from(account.pubkey).toString("hex"),
    tx_hex: Buffer.from(bytes).toString("hex"),
  }, null, 1));
})();
