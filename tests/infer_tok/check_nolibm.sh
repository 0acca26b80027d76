#!/bin/sh
# check_nolibm.sh [--expect-libm CONTROL] LIB... — fails if any object in the
# given static libraries/objects has an undefined reference to a libm
# transcendental function (exp, log, pow, sin, cos, tanh, erf, ... and their
# f/l forms). Their results differ between libm versions and machines, so
# nothing that feeds consensus (src/infer, src/vm, src/chain, src/ai,
# src/wasi, src/abci) may call them: the project's own src/infer/detmath.c
# provides what is needed. Exactly specified operations (sqrt, fma, floor,
# ceil, trunc, round, rint, fmod, ldexp, frexp: correctly rounded or exact in
# IEEE 754 / C Annex F, the same everywhere) are allowed: a -O0 build calls
# sqrtf instead of inlining it.
# --expect-libm CONTROL: an object that does call expf, checked first, so the
# check is shown to detect a call (a check that cannot fail proves nothing).
set -eu
RE='^(exp|exp2|exp10|expm1|log|log2|log10|log1p|logb|pow|pow10|cbrt|sin|cos|tan|sincos|asin|acos|atan|atan2|sinh|cosh|tanh|asinh|acosh|atanh|erf|erfc|lgamma|tgamma|hypot|j0|j1|jn|y0|y1|yn)[fl]?(@.*)?$'
libm_refs() {
  # "object: symbol" for every undefined transcendental (nm -A: file:object: U sym)
  nm -u -A "$1" | awk -v re="$RE" '$NF ~ re {print $1, $NF}'
}
status=0
if [ "${1:-}" = "--expect-libm" ]; then
  [ -f "$2" ] || { echo "control object $2 missing"; exit 1; }
  if [ -z "$(libm_refs "$2")" ]; then
    echo "the check found no libm call in the control $2: it is broken"
    exit 1
  fi
  echo "control $2: libm call detected, as it must be"
  shift 2
fi
[ $# -gt 0 ] || { echo "no libraries given"; exit 1; }
for f in "$@"; do
  [ -f "$f" ] || { echo "$f missing"; status=1; continue; }
  bad=$(libm_refs "$f")
  if [ -n "$bad" ]; then
    echo "$f calls libm:"
    echo "$bad"
    status=1
  else
    echo "$f: no libm transcendental references ($(nm -A "$f" 2>/dev/null | awk -F: '{print $2}' | sort -u | wc -l) objects)"
  fi
done
exit $status
