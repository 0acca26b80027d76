/*
 * util.c — the VM's small pure helpers: status texts, entry names, Env,
 * MessageInfo and MigrateInfo JSON builders, the cw_migrate_version reader,
 * SystemResult builders for queriers, and the Response parser the chain uses
 * to dispatch messages. JSON goes through
 * cJSON; integers that must stay exact (heights, nanoseconds) are printed
 * with %llu ourselves because cJSON stores numbers as doubles.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "common.h"
#include "vm_internal.h"

const char *wicas_vm_strerror(wicas_vm_status s) {
    switch (s) {
    case WICAS_VM_OK:
        return "ok";
    case WICAS_VM_ERR_ARG:
        return "invalid argument";
    case WICAS_VM_ERR_NOMEM:
        return "out of memory";
    case WICAS_VM_ERR_VALIDATION:
        return "module failed validation";
    case WICAS_VM_ERR_COMPILE:
        return "module failed to compile";
    case WICAS_VM_ERR_NO_CODE:
        return "no code stored under this checksum";
    case WICAS_VM_ERR_NO_ENTRY:
        return "contract does not export this entry point";
    case WICAS_VM_ERR_OUT_OF_GAS:
        return "out of gas";
    case WICAS_VM_ERR_TRAP:
        return "contract trapped";
    case WICAS_VM_ERR_REGION:
        return "invalid memory region";
    case WICAS_VM_ERR_RESULT:
        return "invalid contract result";
    case WICAS_VM_ERR_CONTRACT:
        return "contract returned an error";
    case WICAS_VM_ERR_STORAGE:
        return "storage failure";
    case WICAS_VM_ERR_INSTANTIATE:
        return "instantiation failed";
    case WICAS_VM_ERR_CACHE:
        return "module cache failure";
    case WICAS_VM_ERR_DEPTH:
        return "calls nested too deeply";
    }
    return "unknown status";
}

bool wicas_vm_status_is_deterministic(wicas_vm_status s) {
    switch (s) {
    case WICAS_VM_ERR_ARG:
    case WICAS_VM_ERR_NOMEM:
    case WICAS_VM_ERR_NO_CODE:
    case WICAS_VM_ERR_STORAGE:
    case WICAS_VM_ERR_CACHE:
        return false;
    default:
        return true;
    }
}

const char *wicas_vm_entry_name(wicas_vm_entry e) {
    static const char *names[] = {"instantiate", "execute", "query", "migrate", "sudo", "reply"};
    return (unsigned)e < 6 ? names[e] : NULL;
}

/* JSON string literal (with quotes) of s, malloc'd. */
static char *json_str(const char *s) {
    cJSON *j = cJSON_CreateString(s);
    if (!j) return NULL;
    char *out = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return out;
}

char *wicas_vm_env_json(uint64_t height, uint64_t time_nanos, const char *chain_id, int64_t tx_index,
                        const char *contract_addr) {
    if (!chain_id || !contract_addr) return NULL;
    char *cid = json_str(chain_id), *addr = json_str(contract_addr);
    char *out = NULL;
    if (cid && addr) {
        char tx[64];
        if (tx_index >= 0)
            snprintf(tx, sizeof tx, "{\"index\":%lld}", (long long)tx_index);
        else
            snprintf(tx, sizeof tx, "null");
        size_t cap = strlen(cid) + strlen(addr) + 256;
        out = malloc(cap);
        if (out)
            snprintf(out, cap,
                     "{\"block\":{\"height\":%llu,\"time\":\"%llu\",\"chain_id\":%s},\"transaction\":%s,"
                     "\"contract\":{\"address\":%s}}",
                     (unsigned long long)height, (unsigned long long)time_nanos, cid, tx, addr);
    }
    free(cid);
    free(addr);
    return out;
}

char *wicas_vm_migrate_info_json(const char *sender, bool has_old_version, uint64_t old_version) {
    if (!sender) return NULL;
    char *snd = json_str(sender);
    if (!snd) return NULL;
    char ver[32];
    if (has_old_version)
        snprintf(ver, sizeof ver, "%llu", (unsigned long long)old_version);
    else
        snprintf(ver, sizeof ver, "null");
    size_t cap = strlen(snd) + 64;
    char *out = malloc(cap);
    if (out) snprintf(out, cap, "{\"sender\":%s,\"old_migrate_version\":%s}", snd, ver);
    free(snd);
    return out;
}

/* LEB128 u32 from p[*i..n); false when truncated or too long. */
static bool leb_u32(const uint8_t *p, size_t n, size_t *i, uint32_t *out) {
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (*i >= n) return false;
        uint8_t b = p[(*i)++];
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

int wicas_vm_code_migrate_version(const uint8_t *wasm, size_t len, uint64_t *version) {
    static const char name[] = "cw_migrate_version";
    if (!wasm || len < 8 || memcmp(wasm, "\0asm\1\0\0\0", 8) != 0) return -1;
    size_t i = 8;
    while (i < len) {
        uint8_t id = wasm[i++];
        uint32_t size;
        if (!leb_u32(wasm, len, &i, &size) || size > len - i) return -1;
        size_t end = i + size;
        if (id == 0) {
            uint32_t nl;
            size_t j = i;
            if (!leb_u32(wasm, end, &j, &nl) || nl > end - j) return -1;
            if (nl == sizeof name - 1 && memcmp(wasm + j, name, nl) == 0) {
                /* cosmwasm-vm: the payload parsed as a u64 (Rust's str::parse: decimal
                 * digits, an optional leading '+'), otherwise no version */
                const uint8_t *d = wasm + j + nl;
                size_t dl = end - (j + nl);
                if (dl > 1 && d[0] == '+') d++, dl--;
                if (dl == 0 || dl > 20) return 0;
                uint64_t v = 0;
                for (size_t k = 0; k < dl; k++) {
                    if (d[k] < '0' || d[k] > '9') return 0;
                    uint64_t digit = (uint64_t)(d[k] - '0');
                    if (v > (UINT64_MAX - digit) / 10) return 0;
                    v = v * 10 + digit;
                }
                if (version) *version = v;
                return 1;
            }
        }
        i = end;
    }
    return 0;
}

char *wicas_vm_info_json(const char *sender, const wicas_vm_coin *funds, size_t n_funds) {
    if (!sender || (n_funds && !funds)) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    if (!o || !arr) {
        cJSON_Delete(o);
        cJSON_Delete(arr);
        return NULL;
    }
    cJSON_AddStringToObject(o, "sender", sender);
    cJSON_AddItemToObject(o, "funds", arr);
    for (size_t i = 0; i < n_funds; i++) {
        if (!funds[i].denom || !funds[i].amount) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON *c = cJSON_CreateObject();
        if (!c) break;
        cJSON_AddStringToObject(c, "denom", funds[i].denom);
        cJSON_AddStringToObject(c, "amount", funds[i].amount);
        cJSON_AddItemToArray(arr, c);
    }
    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

char *wicas_vm_query_ok(const uint8_t *data, size_t len) {
    size_t bl = wicas_base64_encoded_len(len);
    char *out = malloc(bl + 32);
    if (!out) return NULL;
    memcpy(out, "{\"ok\":{\"ok\":\"", 13);
    wicas_base64_encode(data, len, out + 13);
    strcat(out + 13, "\"}}");
    return out;
}

char *wicas_vm_query_error(const char *msg) {
    char *m = json_str(msg ? msg : "");
    if (!m) return NULL;
    size_t cap = strlen(m) + 32;
    char *out = malloc(cap);
    if (out) snprintf(out, cap, "{\"ok\":{\"error\":%s}}", m);
    free(m);
    return out;
}

/* ---- Response parsing -------------------------------------------------------------------- */
#define PERR(...)                                                                                            \
    do {                                                                                                     \
        if (err) snprintf(err, errcap, __VA_ARGS__);                                                         \
        goto fail;                                                                                           \
    } while (0)

static char *dupstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* An unsigned integer that cJSON can hold exactly (<= 2^53). */
static bool json_u64(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return false;
    double d = j->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
}

static int parse_attrs(const cJSON *arr, wicas_vm_attr **out, size_t *n, const char *where, char *err,
                       size_t errcap) {
    *out = NULL;
    *n = 0;
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) {
        if (err) snprintf(err, errcap, "%s: attributes must be an array", where);
        return -1;
    }
    int cnt = cJSON_GetArraySize(arr);
    if (cnt == 0) return 0;
    *out = calloc((size_t)cnt, sizeof **out);
    if (!*out) return -1;
    const cJSON *a;
    cJSON_ArrayForEach(a, arr) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(a, "key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, "value");
        if (!cJSON_IsString(k) || !cJSON_IsString(v)) {
            if (err) snprintf(err, errcap, "%s: attribute %zu needs string key and value", where, *n);
            return -1;
        }
        (*out)[*n].key = dupstr(k->valuestring);
        (*out)[*n].value = dupstr(v->valuestring);
        (*n)++;
        if (!(*out)[*n - 1].key || !(*out)[*n - 1].value) return -1;
    }
    return 0;
}

wicas_vm_status wicas_vm_parse_response(const char *json, wicas_vm_response *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    if (!json) {
        if (err) snprintf(err, errcap, "response: NULL");
        return WICAS_VM_ERR_ARG;
    }
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) PERR("response: not a JSON object");

    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (msgs && !cJSON_IsNull(msgs)) {
        if (!cJSON_IsArray(msgs)) PERR("response.messages must be an array");
        int cnt = cJSON_GetArraySize(msgs);
        if (cnt > 0 && !(out->messages = calloc((size_t)cnt, sizeof *out->messages))) PERR("out of memory");
        const cJSON *m;
        cJSON_ArrayForEach(m, msgs) {
            size_t i = out->n_messages;
            wicas_vm_submsg *s = &out->messages[i];
            out->n_messages++;
            if (!cJSON_IsObject(m)) PERR("response.messages[%zu] is not an object", i);
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
            if (id && !cJSON_IsNull(id) && !json_u64(id, &s->id))
                PERR("response.messages[%zu].id is not a u64", i);
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(m, "msg");
            if (!cJSON_IsObject(msg)) PERR("response.messages[%zu].msg must be a CosmosMsg object", i);
            if (!(s->msg_json = cJSON_PrintUnformatted(msg))) PERR("out of memory");
            const cJSON *gl = cJSON_GetObjectItemCaseSensitive(m, "gas_limit");
            if (gl && !cJSON_IsNull(gl)) {
                if (!json_u64(gl, &s->gas_limit)) PERR("response.messages[%zu].gas_limit is not a u64", i);
                s->has_gas_limit = true;
            }
            const cJSON *ro = cJSON_GetObjectItemCaseSensitive(m, "reply_on");
            if (!ro || cJSON_IsNull(ro))
                s->reply_on = WICAS_VM_REPLY_NEVER;
            else if (!cJSON_IsString(ro))
                PERR("response.messages[%zu].reply_on must be a string", i);
            else if (!strcmp(ro->valuestring, "never"))
                s->reply_on = WICAS_VM_REPLY_NEVER;
            else if (!strcmp(ro->valuestring, "success"))
                s->reply_on = WICAS_VM_REPLY_SUCCESS;
            else if (!strcmp(ro->valuestring, "error"))
                s->reply_on = WICAS_VM_REPLY_ERROR;
            else if (!strcmp(ro->valuestring, "always"))
                s->reply_on = WICAS_VM_REPLY_ALWAYS;
            else
                PERR("response.messages[%zu].reply_on: unknown value \"%s\"", i, ro->valuestring);
            const cJSON *pl = cJSON_GetObjectItemCaseSensitive(m, "payload");
            if (pl && !cJSON_IsNull(pl) && !cJSON_IsString(pl))
                PERR("response.messages[%zu].payload must be base64", i);
            if (!(s->payload_b64 = dupstr(cJSON_IsString(pl) ? pl->valuestring : ""))) PERR("out of memory");
        }
    }
    if (parse_attrs(cJSON_GetObjectItemCaseSensitive(root, "attributes"), &out->attributes,
                    &out->n_attributes, "response", err, errcap))
        goto fail;
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (evs && !cJSON_IsNull(evs)) {
        if (!cJSON_IsArray(evs)) PERR("response.events must be an array");
        int cnt = cJSON_GetArraySize(evs);
        if (cnt > 0 && !(out->events = calloc((size_t)cnt, sizeof *out->events))) PERR("out of memory");
        const cJSON *e;
        cJSON_ArrayForEach(e, evs) {
            wicas_vm_event *ev = &out->events[out->n_events++];
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "type");
            if (!cJSON_IsString(t)) PERR("response.events[%zu].type must be a string", out->n_events - 1);
            if (!(ev->type = dupstr(t->valuestring))) PERR("out of memory");
            if (parse_attrs(cJSON_GetObjectItemCaseSensitive(e, "attributes"), &ev->attrs, &ev->n_attrs,
                            "response.events", err, errcap))
                goto fail;
        }
    }
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (data && !cJSON_IsNull(data)) {
        if (!cJSON_IsString(data)) PERR("response.data must be a base64 string");
        size_t l = strlen(data->valuestring);
        out->data = malloc(l / 4 * 3 + 3);
        if (!out->data) PERR("out of memory");
        long n = wicas_base64_decode(data->valuestring, l, out->data, l / 4 * 3 + 3);
        if (n < 0) PERR("response.data is not valid base64");
        out->data_len = (size_t)n;
        out->has_data = true;
    }
    cJSON_Delete(root);
    return WICAS_VM_OK;
fail:
    cJSON_Delete(root);
    wicas_vm_response_free(out);
    return WICAS_VM_ERR_RESULT;
}

static void free_attrs(wicas_vm_attr *a, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(a[i].key);
        free(a[i].value);
    }
    free(a);
}

void wicas_vm_response_free(wicas_vm_response *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_messages; i++) {
        free(r->messages[i].msg_json);
        free(r->messages[i].payload_b64);
    }
    free(r->messages);
    free_attrs(r->attributes, r->n_attributes);
    for (size_t i = 0; i < r->n_events; i++) {
        free(r->events[i].type);
        free_attrs(r->events[i].attrs, r->events[i].n_attrs);
    }
    free(r->events);
    free(r->data);
    memset(r, 0, sizeof *r);
}

void wicas_vm_result_free(wicas_vm_result *r) {
    if (!r) return;
    free(r->error);
    free(r->raw);
    free(r->ok_json);
    free(r->query_data);
    memset(r, 0, sizeof *r);
}
