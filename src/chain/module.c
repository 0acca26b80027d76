/*
 * module.c — the core's side of the module table (module.h): route lookups,
 * module state and execution scratch, and the helpers modules answer
 * queries with. The table itself is the application's (src/app/modules.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

int wicas_module_index(const wicas_module *m) {
    for (int i = 0; wicas_modules[i]; i++)
        if (wicas_modules[i] == m) return i;
    return -1;
}

const wicas_module *wicas_module_for_msg(const char *type_url, const wicas_msg_route **route) {
    for (int i = 0; type_url && wicas_modules[i]; i++)
        for (size_t j = 0; j < wicas_modules[i]->n_msgs; j++)
            if (strcmp(wicas_modules[i]->msgs[j].type_url, type_url) == 0) {
                if (route) *route = &wicas_modules[i]->msgs[j];
                return wicas_modules[i];
            }
    return NULL;
}

const wicas_module *wicas_module_for_query(const char *path) {
    for (int i = 0; path && wicas_modules[i]; i++) {
        const char *s = wicas_modules[i]->query_service;
        if (s && wicas_modules[i]->query && strncmp(path, s, strlen(s)) == 0) return wicas_modules[i];
    }
    return NULL;
}

const wicas_module *wicas_module_for_custom(const char *key) {
    for (int i = 0; key && wicas_modules[i]; i++)
        if (wicas_modules[i]->custom_key && strcmp(wicas_modules[i]->custom_key, key) == 0)
            return wicas_modules[i];
    return NULL;
}

/* ---- state ------------------------------------------------------------------------------- */

void *wicas_module_state(const wicas_chain *c, const wicas_module *m) {
    int i = wicas_module_index(m);
    const wicas_chain *b = c->view_of ? c->view_of : c;
    return i < 0 ? NULL : b->mstate[i];
}

void *wicas_module_exec(const wicas_chain *c, const wicas_module *m) {
    int i = wicas_module_index(m);
    return i < 0 ? NULL : c->mexec[i];
}

int wicas_chain_view_slot(const wicas_chain *c) {
    return c->view_of ? c->view_slot : -1;
}

int wicas_modules_exec_alloc(wicas_chain *c) {
    for (int i = 0; wicas_modules[i]; i++)
        if (wicas_modules[i]->exec_size && !(c->mexec[i] = calloc(1, wicas_modules[i]->exec_size))) return -1;
    return 0;
}

void wicas_modules_exec_free(wicas_chain *c) {
    for (int i = 0; wicas_modules[i]; i++) {
        free(c->mexec[i]);
        c->mexec[i] = NULL;
    }
}

/* ---- query answers ----------------------------------------------------------------------- */

void wicas_query_fail(wicas_chain_query_result *r, uint32_t code, const char *codespace, const char *fmt,
                      ...) {
    r->code = code;
    free(r->codespace);
    r->codespace = wicas_xstrdup(codespace ? codespace : WICAS_CHAIN_CODESPACE_SDK);
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) s = NULL;
    va_end(ap);
    free(r->log);
    r->log = s ? s : wicas_xstrdup("query failed");
}

void wicas_query_value(wicas_chain_query_result *r, const ProtobufCMessage *m) {
    size_t n = protobuf_c_message_get_packed_size(m);
    r->value = malloc(n ? n : 1);
    if (!r->value) {
        wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "out of memory");
        return;
    }
    protobuf_c_message_pack(m, r->value);
    r->value_len = n;
}

void wicas_query_json(wicas_chain_query_result *r, char *json) {
    if (!json) {
        wicas_query_fail(r, WICAS_CODE_INTERNAL, NULL, "out of memory");
        return;
    }
    r->value = (uint8_t *)json;
    r->value_len = strlen(json);
}

bool wicas_query_addr(wicas_chain_query_result *r, const char *a, uint8_t out[32], size_t *al) {
    if (!a || wicas_chain_addr_decode(a, out, al)) {
        wicas_query_fail(r, WICAS_CODE_INVALID_ADDRESS, NULL, "invalid address '%s': decoding bech32 failed",
                         a ? a : "");
        return false;
    }
    return true;
}
