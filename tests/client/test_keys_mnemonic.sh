#!/usr/bin/env bash
# test_keys_mnemonic.sh — `wicasd keys add` with BIP-39 mnemonics, offline:
#   - --recover of the mnemonics in tests/chain/cosmjs/vector_mnemonic.json
#     (recorded with CosmJS) at their HD paths (--hd-path, --account/--index)
#     gives the address CosmJS derived, and the same 20 bytes as the cosmos1
#     address (compared through `keys show --output json`'s pubkey too);
#   - the old 64-hex-digit secret still recovers (CosmJS's vector_send.json);
#   - a new key prints a 24-word mnemonic (stderr warning in text mode, a
#     "mnemonic" field in json, none with --no-backup) that recovers to it;
#   - bad input (unknown word, bad checksum, wrong word count, non-ASCII, bad
#     path, conflicting flags) fails with a clear message and creates nothing;
#   - keys export (armor, --unarmored-hex --unsafe) and keys import round trip;
#     a wrong passphrase or altered armor is refused.
set -euo pipefail
W="$WICAS_BUILD_DIR/bin/wicasd"
S="${WICAS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
V="$S/tests/chain/cosmjs/vector_mnemonic.json"
T=$(mktemp -d /tmp/wicas_mnemonic_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
export WICAS_KEYRING_PASSPHRASE=correct-horse
K="$T/keyring"
[ -f "$V" ] || fail "missing $V"
n=$(jq length "$V")
[ "$n" -ge 6 ] || fail "vector file has $n entries"

# ---- recover every CosmJS vector by --hd-path
for i in $(seq 0 $((n - 1))); do
  m=$(jq -r ".[$i].mnemonic" "$V"); p=$(jq -r ".[$i].hd_path" "$V")
  want=$(jq -r ".[$i].wicas_address" "$V"); pk=$(jq -r ".[$i].pubkey_hex" "$V")
  echo "$m" | "$W" keys add "v$i" --recover --hd-path "$p" --keyring-dir "$K" --output json > "$T/v$i.json" \
    || fail "recover vector $i"
  got=$(jq -r .address "$T/v$i.json")
  [ "$got" = "$want" ] || fail "vector $i ($p): got $got, CosmJS derived $want"
  gotpk=$(jq -r .pubkey.key "$T/v$i.json" | base64 -d | od -An -tx1 | tr -d ' \n')
  [ "$gotpk" = "$pk" ] || fail "vector $i pubkey $gotpk != $pk"
  [ "$("$W" keys show "v$i" -a --keyring-dir "$K")" = "$want" ] || fail "keys show v$i"
  jq -e 'has("mnemonic") | not' "$T/v$i.json" >/dev/null || fail "recover printed a mnemonic"
done
echo "recovered $n CosmJS vectors"

# ---- the default path, --account/--index, and a messy but valid spelling
m0=$(jq -r '.[0].mnemonic' "$V")
a0=$(jq -r '.[] | select(.hd_path == "m/44'"'"'/118'"'"'/0'"'"'/0/0") | .wicas_address' "$V" | head -1)
a1=$(jq -r '.[] | select(.hd_path == "m/44'"'"'/118'"'"'/0'"'"'/0/1") | .wicas_address' "$V")
a27=$(jq -r '.[] | select(.hd_path == "m/44'"'"'/118'"'"'/2'"'"'/0/7") | .wicas_address' "$V")
echo "$m0" | "$W" keys add d0 --recover --keyring-dir "$K" >/dev/null || fail "recover default path"
[ "$("$W" keys show d0 -a --keyring-dir "$K")" = "$a0" ] || fail "default path address"
echo "$m0" | "$W" keys add d1 --recover --index 1 --keyring-dir "$K" >/dev/null || fail "recover --index"
[ "$("$W" keys show d1 -a --keyring-dir "$K")" = "$a1" ] || fail "--index 1 address"
echo "$m0" | "$W" keys add d27 --recover --account 2 --index 7 --keyring-dir "$K" >/dev/null || fail "recover --account"
[ "$("$W" keys show d27 -a --keyring-dir "$K")" = "$a27" ] || fail "--account 2 --index 7 address"
messy="  $(echo "$m0" | tr a-z A-Z | sed 's/ /  \t /g')   "
printf '%s\r\n' "$messy" | "$W" keys add dm --recover --keyring-dir "$K" >/dev/null || fail "recover messy spelling"
[ "$("$W" keys show dm -a --keyring-dir "$K")" = "$a0" ] || fail "upper case / extra whitespace changed the address"

# ---- the old raw-secret form still works (CosmJS's key 0x01..0x20)
hex=$(printf '%02x' $(seq 1 32))
echo "$hex" | "$W" keys add raw --recover --keyring-dir "$K" >/dev/null || fail "recover hex secret"
[ "$("$W" keys show raw -a --keyring-dir "$K")" = "$(jq -r .from "$S/tests/chain/cosmjs/vector_send.json")" ] \
  || fail "hex secret address"

# ---- new keys: the printed mnemonic recovers the same key
"$W" keys add new1 --keyring-dir "$K" > "$T/new1.out" 2> "$T/new1.err" || fail "keys add new1"
grep -q '^\*\*Important\*\* write this mnemonic phrase in a safe place' "$T/new1.err" || fail "no warning"
mn=$(grep -E '^[a-z]+( [a-z]+){23}$' "$T/new1.err") || fail "no 24-word mnemonic in: $(cat "$T/new1.err")"
! grep -q "$mn" "$T/new1.out" || fail "mnemonic on stdout in text mode"
! grep -rq "$(echo "$mn" | cut -d' ' -f1-3)" "$K/new1.key" || fail "mnemonic stored in the key file"
echo "$mn" | "$W" keys add new1r --recover --keyring-dir "$K" >/dev/null || fail "recover new1's mnemonic"
[ "$("$W" keys show new1 -a --keyring-dir "$K")" = "$("$W" keys show new1r -a --keyring-dir "$K")" ] || fail "new1 != new1r"
"$W" keys add new2 --keyring-dir "$K" --output json > "$T/new2.json" 2>/dev/null || fail "keys add new2 json"
mn2=$(jq -r .mnemonic "$T/new2.json")
[ "$(echo "$mn2" | wc -w)" = 24 ] || fail "json mnemonic: $mn2"
[ "$mn2" != "$mn" ] || fail "two new keys share a mnemonic"
echo "$mn2" | "$W" keys add new2r --recover --keyring-dir "$K" --output json > "$T/new2r.json" || fail "recover new2"
[ "$(jq -r .address "$T/new2.json")" = "$(jq -r .address "$T/new2r.json")" ] || fail "new2 != new2r"
"$W" keys add new3 --no-backup --keyring-dir "$K" --output json > "$T/new3.json" 2> "$T/new3.err" || fail "new3"
jq -e 'has("mnemonic") | not' "$T/new3.json" >/dev/null || fail "--no-backup printed a mnemonic (json)"
"$W" keys add new4 --no-backup --keyring-dir "$K" > /dev/null 2> "$T/new4.err" || fail "new4"
! grep -q Important "$T/new4.err" || fail "--no-backup printed a mnemonic (text)"

# ---- bad input: clear error, nothing created
before=$(ls "$K" | sort)
A11="abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon"
bad() { # name, stdin, expected message part, extra flags...
  local name=$1 input=$2 msg=$3; shift 3
  if printf '%s\n' "$input" | "$W" keys add "$name" --recover --keyring-dir "$K" "$@" > "$T/bad.out" 2> "$T/bad.err"; then
    fail "$name: accepted"
  fi
  grep -qF -- "$msg" "$T/bad.err" || fail "$name: message '$(cat "$T/bad.err")' lacks '$msg'"
  [ ! -e "$K/$name.key" ] || fail "$name: key file created"
}
bad badword "$A11 abandonx" "word 12 ('abandonx') is not in the BIP-39 English wordlist"
bad badsum "$A11 abandon" "invalid mnemonic checksum"
bad swapped "legal winner thank year wave sausage worth useful legal winner yellow thank" "invalid mnemonic checksum"
bad count11 "$A11" "12, 15, 18, 21 or 24 words; got 11"
bad count13 "$A11 about about" "got 13"
bad empty "" "got 0"
bad nonascii "$A11 ab$(printf '\xc3\xb3')ut" "non-ASCII"
bad badpath "$m0" "must start with" --hd-path "44'/118'/0'/0/0"
bad badpath2 "$m0" "level 5 is >= 2^31" --hd-path "m/44'/118'/0'/0/2147483648"
bad badidx "$m0" "--index must be a number below 2^31" --index -1
bad both "$m0" "either --hd-path or --account/--index" --hd-path "m/44'/118'/0'/0/0" --index 1
bad hexpath "$hex" "apply to mnemonics" --hd-path "m/44'/118'/0'/0/0"
[ "$(ls "$K" | sort)" = "$before" ] || fail "bad input changed the keyring"
# an existing name is refused and its key kept
echo "$(jq -r '.[4].mnemonic' "$V")" | "$W" keys add d0 --recover --keyring-dir "$K" > /dev/null 2> "$T/dup.err" \
  && fail "duplicate name accepted"
grep -q "already exists" "$T/dup.err" || fail "duplicate message: $(cat "$T/dup.err")"
[ "$("$W" keys show d0 -a --keyring-dir "$K")" = "$a0" ] || fail "duplicate changed d0"

# ---- export / import
"$W" keys export d0 --unarmored-hex --keyring-dir "$K" > /dev/null 2> "$T/ex.err" && fail "--unarmored-hex without --unsafe"
grep -q -- "--unsafe" "$T/ex.err" || fail "unsafe message"
h0=$("$W" keys export d0 --unarmored-hex --unsafe --keyring-dir "$K") || fail "export hex"
echo "$h0" | "$W" keys add d0hex --recover --keyring-dir "$K" > /dev/null || fail "recover exported hex"
[ "$("$W" keys show d0hex -a --keyring-dir "$K")" = "$a0" ] || fail "exported hex address"
echo "export-pw" | "$W" keys export d0 --keyring-dir "$K" > "$T/d0.armor" || fail "export armor"
grep -q "^-----BEGIN WICAS PRIVATE KEY-----$" "$T/d0.armor" || fail "armor begin line"
! grep -q "$h0" "$T/d0.armor" || fail "secret in clear in the armor"
echo "export-pw" | "$W" keys import d0imp "$T/d0.armor" --keyring-dir "$K" > /dev/null || fail "import armor"
[ "$("$W" keys show d0imp -a --keyring-dir "$K")" = "$a0" ] || fail "imported address"
echo "wrong-pw" | "$W" keys import d0bad "$T/d0.armor" --keyring-dir "$K" > /dev/null 2> "$T/imp.err" && fail "wrong export passphrase accepted"
grep -q "wrong passphrase" "$T/imp.err" || fail "import message: $(cat "$T/imp.err")"
[ ! -e "$K/d0bad.key" ] || fail "failed import created a key"
sed 's/^salt: 0/salt: 1/; t; s/^salt: ./salt: 0/' "$T/d0.armor" > "$T/d0t.armor"  # one salt digit changed
! cmp -s "$T/d0.armor" "$T/d0t.armor" || fail "tampering changed nothing"
echo "export-pw" | "$W" keys import d0t "$T/d0t.armor" --keyring-dir "$K" > /dev/null 2>&1 && fail "altered armor accepted"
[ ! -e "$K/d0t.key" ] || fail "altered armor created a key"
echo "export-pw" | "$W" keys import d0x /nonexistent --keyring-dir "$K" > /dev/null 2>&1 && fail "missing file accepted"
echo "export-pw" | "$W" keys import d0 "$T/d0.armor" --keyring-dir "$K" > /dev/null 2>&1 && fail "import over an existing key"
echo "PASS: mnemonic keys, export/import"
