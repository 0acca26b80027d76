/* nolibm_control.c — calls expf on purpose: check_nolibm.sh must report it
 * (the negative control of test_detmath_nolibm). Never linked into anything. */
#include <math.h>

float nolibm_control(float x);
float nolibm_control(float x) {
    volatile float v = x;
    return expf(v);
}
