// mnemonic_address.js — records addresses that a real Cosmos client (CosmJS)
// derives from BIP-39 mnemonics, for tests/client/test_hd.c and
// tests/chain/test_cli.sh: the same mnemonic and HD path must give the same
// secp256k1 public key and 20-byte address in wicasd (prefix wicas) as in
// CosmJS/Keplr (prefix cosmos).
// Run: cd /tmp/cosmjs && npm install @cosmjs/proto-signing@0.39 (recorded with 0.39.0)
//      NODE_PATH=/tmp/cosmjs/node_modules node mnemonic_address.js > vector_mnemonic.json
const { DirectSecp256k1HdWallet } = require("@cosmjs/proto-signing");
const { stringToPath } = require("@cosmjs/crypto");
const { fromBech32 } = require("@cosmjs/encoding");

const cases = [
  ["abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "m/44'/118'/0'/0/0"],
  ["abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "m/44'/118'/0'/0/1"],
  ["abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "m/44'/118'/2'/0/7"],
  ["abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "m/44'/60'/0'/0/0"],
  ["legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal will", "m/44'/118'/0'/0/0"],
  ["absent gorilla van acoustic humor firm title dolphin bulk barely citizen recall crane moment aspect appear track phrase actual enforce steel spoon afraid benefit", "m/44'/118'/0'/0/0"],
];

(async () => {
  const out = [];
  for (const [mnemonic, path] of cases) {
    const res = {};
    for (const prefix of ["cosmos", "wicas"]) {
      const w = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix, hdPaths: [stringToPath(path)] });
      const [a] = await w.getAccounts();
      res[prefix] = a.address;
      res.pubkey_hex = Buffer.from(a.pubkey).toString("hex");
    }
    if (Buffer.compare(Buffer.from(fromBech32(res.cosmos, 90).data), Buffer.from(fromBech32(res.wicas, 90).data)) !== 0)
      throw new Error("prefixes disagree");
    out.push({ mnemonic, hd_path: path, pubkey_hex: res.pubkey_hex, cosmos_address: res.cosmos, wicas_address: res.wicas });
  }
  console.log(JSON.stringify(out, null, 1));
})();
