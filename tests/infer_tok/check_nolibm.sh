#!/bin/sh
# check_nolibm.sh LIB... — fails if any of the given static libraries/objects
# has an undefined reference to a libm function. detmath.c and sampler.c feed
# consensus and must use only the project's own deterministic math.
set -eu
status=0
for f in "$@"; do
  bad=$(nm -u "$f" | awk '{print $NF}' | grep -E '^(exp|exp2|expm1|log|log2|log10|log1p|pow|sqrt|cbrt|sin|cos|tan|sincos|asin|acos|atan|atan2|sinh|cosh|tanh|erf|erfc|lgamma|tgamma|fma|hypot|ldexp|frexp|floor|ceil|round|lround|trunc|fmod|remainder|nearbyint|rint|lrint|llrint)[fl]?(@.*)?$' || true)
  if [ -n "$bad" ]; then
    echo "$f calls libm: $bad"
    status=1
  else
    echo "$f: no libm references"
  fi
done
exit $status
