#!/bin/sh
# check_layers.sh [ROOT [LAYERS]] — the dependency direction of WICAS's source
# folders, as declared in tests/arch/layers.txt (see its header for the rules):
#  - every #include "..." in ROOT/src/**/*.c and *.h is resolved to the file
#    it names, as the compiler does for quoted includes (next to the including
#    file first, else the one file of src/ whose path ends with the name; a
#    generated "<p>.pb-c.h" belongs to the folder whose proto/ holds <p>.proto),
#    and that file's folder must be the including folder or one of lower rank
#    whose public header it is (a sibling module's header also needs an
#    allow line);
#  - every wicas_* library named in a folder's CMakeLists.txt must be built in
#    a folder of lower rank (the link graph follows the same order).
# It fails, naming each offender, on an upward or sideways include, an
# include of another folder's internal header (one not named public on its
# layers.txt line), an include it cannot resolve or that two folders could
# satisfy, a folder that layers.txt does not cover, and an upward link.
# ROOT defaults to the repository holding this script, LAYERS to
# ROOT/tests/arch/layers.txt.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$(cd "$here/../.." && pwd)}
layers=${2:-$root/tests/arch/layers.txt}
[ -d "$root/src" ] || { echo "no src/ under $root"; exit 1; }
[ -f "$layers" ] || { echo "layers file $layers missing"; exit 1; }
cd "$root"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find src -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort >"$tmp/files"
find src -type f -name '*.proto' | LC_ALL=C sort >"$tmp/protos"
find src -type f -name CMakeLists.txt | LC_ALL=C sort >"$tmp/cmakes"
# "file:line:text" of every quoted include.
: >"$tmp/includes"
while read -r f; do
    grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" >>"$tmp/includes" || true
done <"$tmp/files"
# "file add_library|add_executable target" and "file token" for every wicas_* word
# outside comments of each CMakeLists.txt.
: >"$tmp/targets"
: >"$tmp/links"
while read -r f; do
    sed -e 's/#.*//' "$f" | tr -c 'A-Za-z0-9_' '\n' | awk -v f="$f" '
        prev == "add_library" || prev == "add_executable" { print f, "target", $0 }
        /^wicas_[a-z0-9_]+$/ { print f, "word", $0 }
        NF { prev = $0 }' >>"$tmp/targets"
done <"$tmp/cmakes"

awk -v layers="$layers" -v tmp="$tmp" '
function die(msg) { print "layers.txt: " msg; bad_layers = 1 }
# The declared folder that owns path p: the longest folder that is p or a
# prefix of p followed by "/"; "" when none.
function owner(p,    f, best) {
    best = ""
    for (f in rank)
        if ((p == f || index(p, f "/") == 1) && length(f) > length(best)) best = f
    return best
}
function dirname(p) { if (p !~ /\//) return "."; sub(/\/[^\/]*$/, "", p); return p }
# a/b/../c -> a/c, ./ removed
function normalize(p,    n, parts, out, i, k) {
    n = split(p, parts, "/"); k = 0
    for (i = 1; i <= n; i++) {
        if (parts[i] == "" || parts[i] == ".") continue
        if (parts[i] == ".." && k > 0 && out[k] != "..") { k--; continue }
        out[++k] = parts[i]
    }
    p = ""
    for (i = 1; i <= k; i++) p = p (i > 1 ? "/" : "") out[i]
    return p
}
function peer_of(f,    d) {
    for (d in peers) if (index(f, d "/") == 1) return d
    return ""
}
# Whether folder a may use folder b (b != a) through file what ("" for a
# library); sets why on refusal. An allow line lifts the sibling rule, never
# the rank rule.
function may_use(a, b, what) {
    if (a == b) return 1
    if (rank[a] <= rank[b]) {
        why = rank[a] == rank[b] ? "folders of equal rank may not use each other" \
                                 : "a lower layer may not use a higher one"
        return 0
    }
    if (what != "" && peer_of(a) != "" && peer_of(a) == peer_of(b) && !((a SUBSEP what) in allow)) {
        why = "sibling modules under " peer_of(a) " use each other only through a header named by an allow line"
        return 0
    }
    return 1
}
# The folder a CMakeLists.txt in directory d speaks for: its declared owner,
# else (a parent of declared folders, like src/x) the lowest of those below it.
function cmake_owner(d,    f, best) {
    best = owner(d)
    if (best != "") return best
    for (f in rank)
        if (index(f, d "/") == 1 && (best == "" || rank[f] < rank[best])) best = f
    return best
}
BEGIN {
    while ((getline line < layers) > 0) {
        sub(/#.*/, "", line)
        gsub(/^[ \t]+|[ \t]+$/, "", line)
        if (line == "") continue
        n = split(line, w, /[ \t]+/)
        if (w[1] == "peers" && n == 2) peers[w[2]] = 1
        else if (w[1] == "allow" && n == 3) allow[w[2], w[3]] = 1
        else if (n >= 2 && w[2] ~ /^[0-9]+$/) {
            if (w[1] in rank) die("folder " w[1] " declared twice")
            rank[w[1]] = w[2] + 0
            for (i = 3; i <= n; i++) { haspublic[w[1]] = 1; if (w[i] != "-") public[w[1] "/" w[i]] = 1 }
        } else die("cannot read: " line)
    }
    if (!length(rank)) die("declares no folder")
    for (k in allow) { split(k, kk, SUBSEP); if (!(kk[1] in rank)) die("allow line for undeclared folder " kk[1]) }
    if (bad_layers) exit 1
    while ((getline f < (tmp "/files")) > 0) {
        exists[f] = 1
        nfiles++
        if (owner(f) == "") { d = dirname(f); if (!(d in undeclared)) { undeclared[d] = 1; print "FAIL: folder " d " (" f ") is not declared in layers.txt"; bad++ } }
    }
    while ((getline f < (tmp "/protos")) > 0) exists[f] = 1
    close(tmp "/protos")
    for (h in public) if (!(h in exists)) { print "FAIL: layers.txt names " h " public, but there is no such file"; bad++ }
    while ((getline f < (tmp "/protos")) > 0) {
        # src/abci/proto/tendermint/abci/types.proto: header tendermint/abci/types.pb-c.h
        i = index(f, "/proto/")
        if (!i) continue
        h = substr(f, i + 7); sub(/\.proto$/, ".pb-c.h", h)
        if (h in pb) pb[h] = pb[h] " " f; else pb[h] = f
    }
    # ---- includes
    while ((getline line < (tmp "/includes")) > 0) {
        nincl++
        split(line, parts, ":"); file = parts[1]; lno = parts[2]
        name = line; sub(/^[^"]*"/, "", name); sub(/".*$/, "", name)
        from = owner(file)
        if (from == "") continue   # reported above
        target = ""
        local = normalize(dirname(file) "/" name)
        if (local in exists) target = local
        else {
            nc = 0; cand = ""
            for (g in exists) if (g == name || substr(g, length(g) - length(name)) == "/" name) { nc++; cand = cand " " g; target = g }
            if (nc == 0 && (name in pb)) { target = pb[name]; if (split(pb[name], tmpa, " ") > 1) { nc = 2; cand = " " pb[name] } else nc = 1 }
            if (nc > 1) { printf "FAIL: %s:%s: \"%s\" is ambiguous:%s\n", file, lno, name, cand; bad++; continue }
            if (nc == 0) { printf "FAIL: %s:%s: \"%s\" is no file of src/ nor a header generated from one of its .proto files\n", file, lno, name; bad++; continue }
        }
        to = owner(target)
        if (to == "") continue     # reported above
        if (!may_use(from, to, target)) {
            printf "FAIL: %s:%s: includes \"%s\" (%s, %s rank %d) from %s (rank %d): %s\n", file, lno, name, target, to, rank[to], from, rank[from], why
            bad++
        } else if (from != to && (to in haspublic) && !(target in public) && !((from SUBSEP target) in allow)) {
            printf "FAIL: %s:%s: includes \"%s\", an internal header of %s (other folders include only its public header(s) named in layers.txt)\n", file, lno, name, to
            bad++
        }
        if (from != to) cross++
    }
    # ---- link graph: which folder builds each wicas_* target
    while ((getline line < (tmp "/targets")) > 0) {
        split(line, w, " ")
        if (w[2] == "target") builds[w[3]] = cmake_owner(dirname(w[1]))
    }
    close(tmp "/targets")
    while ((getline line < (tmp "/targets")) > 0) {
        split(line, w, " ")
        if (w[2] != "word" || !(w[3] in builds)) continue
        from = cmake_owner(dirname(w[1])); to = builds[w[3]]
        if (from == "" || to == "" || from == to) continue
        nlinks++
        if (!may_use(from, to, "")) {
            printf "FAIL: %s names library %s (%s, rank %d) from %s (rank %d): %s\n", w[1], w[3], to, rank[to], from, rank[from], why
            bad++
        }
    }
    printf "%d files, %d quoted includes (%d across folders), %d cross-folder library uses, %d folders declared\n", nfiles, nincl, cross, nlinks, length(rank)
    if (bad) { printf "%d offence(s) against %s\n", bad, layers; exit 1 }
    print "ok"
}' </dev/null
