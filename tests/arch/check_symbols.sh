#!/bin/sh
# check_symbols.sh [--expect-offender CONTROL.a] ALLOWLIST LIB_OR_DIR... —
# symbol hygiene of the WICAS libraries: every global symbol that a
# libwicas_<name>.a defines must start with the project prefix `wicas_`
# (docs/ARCHITECTURE.md, "Checks"). Everything else a library needs across its
# own files goes through an internal header with prefixed names, and
# file-local helpers are static. Unprefixed globals clash at link time with
# other C code in the same program (infer's old `gguf_type_name` is also
# ggml's) and hide which module a function belongs to.
#
# A directory argument is searched for libwicas_*.a (the build tree's src/,
# so a new library is checked without editing anything); files are taken as
# given. `nm -g --defined-only` lists what each library defines.
#
# Allowed without the prefix, by pattern: what protoc-c generates from our
# .proto files. It names every symbol <package>__<message>__<function>, the
# package's dots turned into "__": packages wchain (src/chain/proto),
# tendermint and google (src/abci/proto). A new .proto package is added to
# PB_RE below. Names starting with "__" are reserved to the implementation
# (what sanitizer and coverage instrumentation may add) and are skipped.
#
# ALLOWLIST: lines "<library> <symbol>" (e.g. "wicas_chain xstrdup", '#'
# starts a comment): the unprefixed symbols of libraries not cleaned yet. It
# only shrinks: any unprefixed symbol not on it fails the check, and entries
# that no longer exist are printed so they can be deleted.
#
# Also fails when two libraries define the same global symbol.
#
# --expect-offender CONTROL.a: a library that defines an unprefixed symbol,
# checked first (without the allowlist): the check must flag it, or it is
# broken (a check that cannot fail proves nothing).
set -eu
PB_RE='^(wchain|tendermint|google)__[a-z0-9_]+'
PREFIX=wicas_

# "<library> <symbol> <object>" for every global defined symbol of $1.
defined() {
    lib=$(basename "$1" .a)
    lib=${lib#lib}
    # nm -A -P: "path[object]: symbol type value size"
    nm -A -P -g --defined-only "$1" | awk -v lib="$lib" '
        NF >= 3 && $2 !~ /^__/ {
            obj = $1; sub(/^.*\[/, "", obj); sub(/\]:$/, "", obj)
            print lib, $2, obj
        }'
}

# Offenders of one library: "<library> <symbol> <object>" lines.
offenders() {
    defined "$1" | awk -v pre="$PREFIX" -v pb="$PB_RE" 'index($2, pre) != 1 && $2 !~ pb'
}

if [ "${1:-}" = "--expect-offender" ]; then
    [ -f "${2:-}" ] || { echo "control library ${2:-} missing"; exit 1; }
    if [ -z "$(offenders "$2")" ]; then
        echo "the check found no unprefixed symbol in the control $2: it is broken"
        exit 1
    fi
    echo "control $2: unprefixed symbol detected, as it must be"
    shift 2
fi
[ $# -ge 2 ] || { echo "usage: $0 [--expect-offender CONTROL.a] ALLOWLIST LIB_OR_DIR..."; exit 2; }
allow=$1
shift
[ -f "$allow" ] || { echo "allowlist $allow missing"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/libs"
for a in "$@"; do
    if [ -d "$a" ]; then
        find "$a" -name 'libwicas_*.a' -type f | sort >>"$tmp/libs"
    elif [ -f "$a" ]; then
        echo "$a" >>"$tmp/libs"
    else
        echo "$a missing"
        exit 1
    fi
done
[ -s "$tmp/libs" ] || { echo "no libwicas_*.a found in $*"; exit 1; }

: >"$tmp/all"
while read -r f; do
    defined "$f" >>"$tmp/all"
done <"$tmp/libs"
# "<library> <symbol>" pairs the allowlist names (comments and blank lines dropped).
sed -e 's/#.*//' "$allow" | awk 'NF == 2 {print $1, $2} NF != 0 && NF != 2 {print "BAD", $0}' | sort -u >"$tmp/allowed"
if grep -q '^BAD ' "$tmp/allowed"; then
    echo "$allow: lines must be '<library> <symbol>':"
    sed -n 's/^BAD //p' "$tmp/allowed"
    exit 1
fi

status=0
awk -v pre="$PREFIX" -v pb="$PB_RE" 'index($2, pre) != 1 && $2 !~ pb' "$tmp/all" | sort -u >"$tmp/bad"
# New offenders: unprefixed and not allowlisted.
awk 'NR == FNR {ok[$1 " " $2] = 1; next} !(($1 " " $2) in ok)' "$tmp/allowed" "$tmp/bad" >"$tmp/new"
if [ -s "$tmp/new" ]; then
    echo "FAIL: global symbols without the '$PREFIX' prefix (make them static, or prefix them):"
    awk '{printf "  %s: %s (defined in %s)\n", $1, $2, $3}' "$tmp/new"
    status=1
fi
# Same symbol defined by two libraries.
awk '{print $2, $1}' "$tmp/all" | sort -u | awk '{n[$1]++; libs[$1] = libs[$1] " " $2} END {for (s in n) if (n[s] > 1) print s ":" libs[s]}' |
    sort >"$tmp/dup"
if [ -s "$tmp/dup" ]; then
    echo "FAIL: global symbols defined by more than one library:"
    sed 's/^/  /' "$tmp/dup"
    status=1
fi
# Allowlist entries that no longer exist: delete them.
awk 'NR == FNR {have[$1 " " $2] = 1; next} !(($1 " " $2) in have)' "$tmp/bad" "$tmp/allowed" >"$tmp/stale"
if [ -s "$tmp/stale" ]; then
    echo "note: $(wc -l <"$tmp/stale") allowlist entries are no longer defined; delete them from $allow:"
    sed 's/^/  /' "$tmp/stale"
fi

nlib=$(wc -l <"$tmp/libs")
nsym=$(wc -l <"$tmp/all")
nallow=$(awk 'NR == FNR {ok[$1 " " $2] = 1; next} (($1 " " $2) in ok)' "$tmp/allowed" "$tmp/bad" | wc -l)
echo "$nlib libraries, $nsym global symbols, $nallow unprefixed ones allowlisted (for now):"
while read -r f; do
    lib=$(basename "$f" .a)
    lib=${lib#lib}
    n=$(awk -v l="$lib" '$1 == l' "$tmp/all" | wc -l)
    a=$(awk -v l="$lib" '$1 == l' "$tmp/bad" | wc -l)
    echo "  $lib: $n defined, $a unprefixed"
done <"$tmp/libs"
[ $status -eq 0 ] && echo "ok"
exit $status
