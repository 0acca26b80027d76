#!/bin/sh
# check_symbols.sh NM LIBRARY PREFIX
# Symbol hygiene: fails, listing them, when the static library defines a
# global symbol whose name does not start with PREFIX (a library exports only
# its own API; internals are static). Names beginning with "__" are reserved
# to the implementation (sanitizer and coverage instrumentation) and skipped.
set -eu
nm_tool=$1 lib=$2 prefix=$3
if [ ! -f "$lib" ]; then
  echo "check_symbols: no library at $lib" >&2
  exit 1
fi
syms=$("$nm_tool" -g --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^__/ { print $3 }' | sort -u)
if [ -z "$syms" ]; then
  echo "check_symbols: $lib defines no global symbol (wrong file?)" >&2
  exit 1
fi
bad=$(printf '%s\n' "$syms" | grep -v "^$prefix" || true)
if [ -n "$bad" ]; then
  echo "check_symbols: $lib defines global symbols without the $prefix prefix:" >&2
  printf '  %s\n' $bad >&2
  exit 1
fi
echo "check_symbols: $lib: $(printf '%s\n' "$syms" | wc -l) global symbols, all $prefix*"
