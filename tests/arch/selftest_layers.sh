#!/bin/sh
# selftest_layers.sh — shows that check_layers.sh can fail: it runs the check
# on copies of this repository's src/ (with tests/arch/layers.txt) into which
# one offence at a time is written, and requires a failure that names the
# offending file and line; then on the same copies with the fix (an allow
# line, a declared folder) it requires success. Ends with the real tree.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
check=$here/check_layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
n=0

# A fresh copy, made the working directory: every edit below is relative to it.
fresh() {
    cd "$tmp"
    rm -rf "$tmp/t"
    mkdir -p "$tmp/t/tests/arch"
    cp -R "$repo/src" "$tmp/t/src"
    cp "$repo/tests/arch/layers.txt" "$tmp/t/tests/arch/layers.txt"
    cd "$tmp/t"
}
# expect_fail NAME PATTERN: the check on $tmp/t must fail and print PATTERN.
expect_fail() {
    n=$((n + 1))
    if out=$("$check" "$tmp/t" 2>&1); then
        echo "FAIL [$1]: the check passed"
        fails=$((fails + 1))
    elif ! printf '%s\n' "$out" | grep -q -- "$2"; then
        echo "FAIL [$1]: failed without naming '$2':"
        printf '%s\n' "$out"
        fails=$((fails + 1))
    else
        echo "ok [$1]: $(printf '%s\n' "$out" | grep -- "$2" | head -1)"
    fi
}
expect_pass() {
    n=$((n + 1))
    if out=$("$check" "$tmp/t" 2>&1); then
        echo "ok [$1]: passes"
    else
        echo "FAIL [$1]: the check failed:"
        printf '%s\n' "$out"
        fails=$((fails + 1))
    fi
}
# first_c DIR: the first .c file of DIR in the copy (files get split and renamed).
first_c() { ls "$1"/*.c | head -1; }
# addline FILE LINE: appends to an existing file (a case must edit real code).
addline() {
    [ -f "$1" ] || { echo "selftest: $1 does not exist in the copy"; exit 1; }
    printf '%s\n' "$2" >>"$1"
}

fresh
expect_pass "unchanged copy"

fresh
addline src/common/log.c '#include "chain.h"'
expect_fail "common includes chain" 'src/common/log.c:[0-9]*: includes "chain.h" (src/chain/chain.h, src/chain rank 30) from src/common (rank 0): a lower layer'

fresh
addline src/ai/ai_core.c '#include "vm.h"'
expect_fail "equal ranks" 'src/ai/ai_core.c:[0-9]*: includes "vm.h".*equal rank'

fresh
addline src/vm/vm.c '#include "wchain.pb-c.h"'
expect_fail "generated header of a higher folder" 'src/vm/vm.c:[0-9]*: includes "wchain.pb-c.h" (src/chain/proto/wchain.proto'

fresh
addline src/chain/store.c '#include "tendermint/abci/types.pb-c.h"'
expect_fail "chain includes abci's generated header" 'src/chain/store.c:[0-9]*: includes "tendermint/abci/types.pb-c.h" (src/abci/proto/'

fresh
addline src/infer/gguf.c '#include "../ai/ai.h"'
expect_fail "relative path upwards" 'src/infer/gguf.c:[0-9]*: includes "../ai/ai.h" (src/ai/ai.h'

fresh
addline src/chain/chain.c '#include "vm_internal.h"'
expect_fail "internal header of a lower folder" 'src/chain/chain.c:[0-9]*: includes "vm_internal.h", an internal header of src/vm'

fresh
addline src/common/log.c '#include "no_such_header.h"'
expect_fail "unknown header" 'src/common/log.c:[0-9]*: "no_such_header.h" is no file'

fresh
mkdir -p src/foo
printf '/* a folder nobody declared */\n' >src/foo/foo.h
expect_fail "undeclared folder" 'folder src/foo (src/foo/foo.h) is not declared'

fresh
mkdir -p src/x/zeta src/x/eta
printf 'int wicas_zeta_x(void);\n' >src/x/zeta/xzeta.h
printf 'int wicas_zeta_iface(void);\n' >src/x/zeta/zeta_iface.h
printf '#include "common.h"\n#include "module.h"\n#include "zeta_iface.h"\n' >src/x/eta/eta.c
addline tests/arch/layers.txt 'src/x/zeta 46 xzeta.h zeta_iface.h'
addline tests/arch/layers.txt 'src/x/eta 47'
expect_fail "sibling modules without an allow line" 'src/x/eta/eta.c:3: includes "zeta_iface.h".*sibling modules under src/x'
addline tests/arch/layers.txt 'allow src/x/eta src/x/zeta/zeta_iface.h'
expect_pass "sibling modules through a declared interface header"
addline src/x/eta/eta.c '#include "xzeta.h"'
expect_fail "sibling module's other header" 'src/x/eta/eta.c:4: includes "xzeta.h"'
addline src/x/zeta/xzeta.h '#include "xwasm.h"'
expect_fail "module uses a module above it without an allow line" 'src/x/zeta/xzeta.h:2: includes "xwasm.h".*sibling'

fresh
f=$(first_c src/x/bank)
addline "$f" '#include "xwasm.h"'
addline tests/arch/layers.txt 'allow src/x/bank src/x/wasm/xwasm.h'
expect_fail "an allow line cannot point upward" "$f"':[0-9]*: includes "xwasm.h" (src/x/wasm/xwasm.h, src/x/wasm rank 42) from src/x/bank (rank 41): a lower layer'

fresh
f=$(first_c src/x/wasm)
addline "$f" '#include "xai.h"'
expect_fail "module includes a module above it" "$f:[0-9]*: includes \"xai.h\".*a lower layer"
f=$(first_c src/app)
addline "$f" '#include "xai.h"'
expect_fail "app includes an internal module header" "$f"':[0-9]*: includes "xai.h", an internal header of src/x/ai'

fresh
f=$(first_c src/x/bank)
addline "$f" '#include "abci.h"'
expect_fail "module includes abci" "$f"':[0-9]*: includes "abci.h".*lower layer'

fresh
addline src/chain/chain.c '#include "xbank.h"'
expect_fail "core includes a module" 'src/chain/chain.c:[0-9]*: includes "xbank.h" (src/x/bank/xbank.h, src/x/bank rank 41) from src/chain (rank 30)'

fresh
addline src/x/CMakeLists.txt 'target_link_libraries(wicas_chain PRIVATE wicas_client)'
expect_fail "modules link the client" 'src/x/CMakeLists.txt names library wicas_client (src/client, rank 50) from src/x/auth (rank 40)'

fresh
f=$(first_c src/client)
addline "$f" '#include "abci.h"'
expect_fail "equal rank: client and abci" "$f"':[0-9]*: includes "abci.h".*equal rank'

fresh
printf 'int wicas_common_dup(void);\n' >src/vm/store.h
addline src/ai/ai_core.c '#include "store.h"'
expect_fail "ambiguous header" 'src/ai/ai_core.c:[0-9]*: "store.h" is ambiguous'

fresh
addline src/vm/CMakeLists.txt 'target_link_libraries(wicas_vm PRIVATE wicas_chain)'
expect_fail "upward link" 'src/vm/CMakeLists.txt names library wicas_chain (src/chain, rank 30) from src/vm (rank 20)'

fresh
sed 's/^src\/vm  *20  *vm.h/src\/vm 20 vm.h vm_api.h/' "$repo/tests/arch/layers.txt" >tests/arch/layers.txt
expect_fail "public header that does not exist" 'layers.txt names src/vm/vm_api.h public, but there is no such file'

fresh
addline tests/arch/layers.txt 'src/vm twenty'
expect_fail "bad layers line" 'layers.txt: cannot read: src/vm twenty'

echo "real tree:"
if "$check" "$repo"; then :; else fails=$((fails + 1)); fi
echo "$n cases on copies, $fails failure(s)"
[ $fails -eq 0 ]
