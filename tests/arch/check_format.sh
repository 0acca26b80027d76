#!/bin/sh
# check_format.sh SRC_DIR — every C source and header of the project
# (src, tests, bench, contracts, programs) is formatted as .clang-format says
# (`make fmt` formats them). Fails naming each file that is not, and fails
# when clang-format is missing (scripts/setup installs it).
set -eu
root=${1:?usage: check_format.sh SRC_DIR}
cd "$root"
command -v clang-format >/dev/null || { echo "check_format: clang-format not found (scripts/setup installs it)"; exit 1; }
files=$(find src tests bench contracts programs -name '*.[ch]' | sort)
n=$(echo "$files" | wc -l)
# one clang-format run over all files; its diagnostics name file:line
bad_files=$(clang-format --dry-run -Werror $files 2>&1 | sed -n 's/^\([^: ]*\.[ch]\):[0-9]*:[0-9]*: error:.*/\1/p' | sort -u)
bad=0
for f in $bad_files; do
  echo "not formatted: $f (clang-format -i $f)"
  bad=$((bad + 1))
done
echo "check_format: $n files, $bad not formatted ($(clang-format --version | head -1))"
[ "$n" -gt 0 ] && [ $bad -eq 0 ]
