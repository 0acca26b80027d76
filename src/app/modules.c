/*
 * modules.c — the application's module table: the one place that names the
 * chain's modules. Their order is consensus:
 * genesis sections are applied, and block hooks run, in this order (auth
 * first, so genesis account numbers follow the file; params before wasm,
 * as the state layout has always had it). To add a module: a folder with its
 * wicas_module, and one line here.
 */
#include "module.h"

extern const wicas_module wicas_module_auth, wicas_module_bank, wicas_module_params, wicas_module_wasm,
    wicas_module_ai;

const wicas_module *const wicas_modules[] = {
    &wicas_module_auth, &wicas_module_bank, &wicas_module_params, &wicas_module_wasm, &wicas_module_ai, NULL,
};

_Static_assert(sizeof wicas_modules / sizeof wicas_modules[0] <= WICAS_MODULES_MAX + 1,
               "raise WICAS_MODULES_MAX");
