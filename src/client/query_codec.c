/*
 * client.c — query request builders and response-to-JSON renderers for the
 * CLI (`wicasd query`, `wicasd tx` looking up accounts and simulating). They
 * live in the chain library because they share its protobuf definitions; the
 * CLI then needs no generated code of its own.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wchain.pb-c.h"
#include "client.h"
#include "common.h"

static int cerr(char *err, size_t errlen, const char *m) {
    wicas_errf(err, errlen, "%s", m);
    return WICAS_CHAIN_ERR_INVALID;
}

static int pack(const ProtobufCMessage *m, uint8_t **out, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    *out = malloc(*len + 1);
    if (!*out) return WICAS_CHAIN_ERR_NOMEM;
    protobuf_c_message_pack(m, *out);
    return 0;
}

/* The AI module's queries take and give plain bytes / JSON, not protobuf. */
static int pack_raw(const uint8_t *b, size_t n, uint8_t **out, size_t *len) {
    *out = malloc(n + 1);
    if (!*out) return WICAS_CHAIN_ERR_NOMEM;
    if (n) memcpy(*out, b, n);
    *len = n;
    return 0;
}

int wicas_chain_query_request(const char *path, const wicas_chain_query_args *a, uint8_t **out,
                              size_t *out_len, char *err, size_t errlen) {
    *out = NULL;
    *out_len = 0;
    static const wicas_chain_query_args none = {0};
    if (!a) a = &none;
    if (!path) return cerr(err, errlen, "no query path");
    bool need_addr = strstr(path, "Account") || strstr(path, "Balance") || strstr(path, "ContractState") ||
                     strstr(path, "ContractInfo");
    if (need_addr && (!a->address || !*a->address)) return cerr(err, errlen, "this query needs an address");
    if (strcmp(path, "/cosmos.auth.v1beta1.Query/Account") == 0) {
        Wchain__QueryAccountRequest q = WCHAIN__QUERY_ACCOUNT_REQUEST__INIT;
        q.address = (char *)a->address;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmos.bank.v1beta1.Query/Balance") == 0) {
        Wchain__QueryBalanceRequest q = WCHAIN__QUERY_BALANCE_REQUEST__INIT;
        q.address = (char *)a->address;
        q.denom = (char *)(a->denom ? a->denom : WICAS_CHAIN_DENOM);
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmos.bank.v1beta1.Query/AllBalances") == 0) {
        Wchain__QueryAllBalancesRequest q = WCHAIN__QUERY_ALL_BALANCES_REQUEST__INIT;
        q.address = (char *)a->address;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/SmartContractState") == 0) {
        Wchain__QuerySmartContractStateRequest q = WCHAIN__QUERY_SMART_CONTRACT_STATE_REQUEST__INIT;
        q.address = (char *)a->address;
        q.query_data.data = (uint8_t *)a->bytes;
        q.query_data.len = a->bytes_len;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/RawContractState") == 0) {
        Wchain__QueryRawContractStateRequest q = WCHAIN__QUERY_RAW_CONTRACT_STATE_REQUEST__INIT;
        q.address = (char *)a->address;
        q.query_data.data = (uint8_t *)a->bytes;
        q.query_data.len = a->bytes_len;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/ContractInfo") == 0) {
        Wchain__QueryContractInfoRequest q = WCHAIN__QUERY_CONTRACT_INFO_REQUEST__INIT;
        q.address = (char *)a->address;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/Code") == 0) {
        Wchain__QueryCodeRequest q = WCHAIN__QUERY_CODE_REQUEST__INIT;
        q.code_id = a->id;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/Codes") == 0) {
        Wchain__QueryCodesRequest q = WCHAIN__QUERY_CODES_REQUEST__INIT;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmwasm.wasm.v1.Query/ContractsByCode") == 0) {
        Wchain__QueryContractsByCodeRequest q = WCHAIN__QUERY_CONTRACTS_BY_CODE_REQUEST__INIT;
        q.code_id = a->id;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/cosmos.tx.v1beta1.Service/Simulate") == 0) {
        Wchain__SimulateRequest q = WCHAIN__SIMULATE_REQUEST__INIT;
        q.tx_bytes.data = (uint8_t *)a->bytes;
        q.tx_bytes.len = a->bytes_len;
        return pack(&q.base, out, out_len);
    }
    if (strcmp(path, "/wicas.ai.v1.Query/Request") == 0) {
        /* the request id in decimal */
        char ids[24];
        int n = snprintf(ids, sizeof ids, "%llu", (unsigned long long)a->id);
        return pack_raw((const uint8_t *)ids, (size_t)n, out, out_len);
    }
    if (strcmp(path, "/wicas.ai.v1.Query/Models") == 0) return pack_raw(NULL, 0, out, out_len);
    if (strcmp(path, "/wicas.ai.v1.Query/Program") == 0) {
        if (!a->bytes || a->bytes_len != 64)
            return cerr(err, errlen, "a program query needs a 64-hex-digit checksum");
        return pack_raw(a->bytes, a->bytes_len, out, out_len);
    }
    return cerr(err, errlen, "unknown query path");
}

/* ---- rendering -------------------------------------------------------------------------- */

static void add_u64(cJSON *o, const char *k, uint64_t v) {
    char s[24];
    snprintf(s, sizeof s, "%" PRIu64, v);
    cJSON_AddStringToObject(o, k, s);
}

static void add_b64(cJSON *o, const char *k, const uint8_t *p, size_t n) {
    char *s = malloc(wicas_base64_encoded_len(n));
    if (!s) return;
    wicas_base64_encode(p, n, s);
    cJSON_AddStringToObject(o, k, s);
    free(s);
}

static cJSON *coins_json(Wchain__Coin **c, size_t n) {
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "denom", c[i]->denom);
        cJSON_AddStringToObject(e, "amount", c[i]->amount);
        cJSON_AddItemToArray(arr, e);
    }
    return arr;
}

static cJSON *page_json(const Wchain__PageResponse *p) {
    cJSON *o = cJSON_CreateObject();
    if (p && p->next_key.len)
        add_b64(o, "next_key", p->next_key.data, p->next_key.len);
    else
        cJSON_AddNullToObject(o, "next_key");
    add_u64(o, "total", p ? p->total : 0);
    return o;
}

static cJSON *code_info_json(const Wchain__CodeInfoResponse *ci) {
    cJSON *o = cJSON_CreateObject();
    add_u64(o, "code_id", ci->code_id);
    cJSON_AddStringToObject(o, "creator", ci->creator);
    char hex[65] = "";
    if (ci->data_hash.len == 32) wicas_hex_encode(ci->data_hash.data, 32, hex);
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f') *p = (char)(*p - 32);
    cJSON_AddStringToObject(o, "data_hash", hex);
    cJSON *ip = cJSON_AddObjectToObject(o, "instantiate_permission");
    cJSON_AddStringToObject(ip, "permission", "Everybody");
    cJSON_AddArrayToObject(ip, "addresses");
    return o;
}

char *wicas_chain_query_response_json(const char *path, const uint8_t *v, size_t len) {
    cJSON *o = NULL;
    if (!path) return NULL;
    if (strncmp(path, "/wicas.ai.v1.Query/", 19) == 0) {
        /* already JSON: checked and passed through */
        o = v ? cJSON_ParseWithLength((const char *)v, len) : cJSON_CreateArray();
        char *s = o ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        return s;
    }
    if (strcmp(path, "/cosmos.auth.v1beta1.Query/Account") == 0) {
        Wchain__QueryAccountResponse *r = wchain__query_account_response__unpack(NULL, len, v);
        if (!r || !r->account) goto bad_acc;
        Wchain__BaseAccount *b =
            wchain__base_account__unpack(NULL, r->account->value.len, r->account->value.data);
        if (b) {
            o = cJSON_CreateObject();
            cJSON *a = cJSON_AddObjectToObject(o, "account");
            cJSON_AddStringToObject(a, "@type", r->account->type_url);
            cJSON_AddStringToObject(a, "address", b->address);
            if (b->pub_key && b->pub_key->value.len == 35) {
                cJSON *pk = cJSON_AddObjectToObject(a, "pub_key");
                cJSON_AddStringToObject(pk, "@type", b->pub_key->type_url);
                add_b64(pk, "key", b->pub_key->value.data + 2, 33);
            } else {
                cJSON_AddNullToObject(a, "pub_key");
            }
            add_u64(a, "account_number", b->account_number);
            add_u64(a, "sequence", b->sequence);
            wchain__base_account__free_unpacked(b, NULL);
        }
    bad_acc:
        if (r) wchain__query_account_response__free_unpacked(r, NULL);
    } else if (strcmp(path, "/cosmos.bank.v1beta1.Query/Balance") == 0) {
        Wchain__QueryBalanceResponse *r = wchain__query_balance_response__unpack(NULL, len, v);
        if (r && r->balance) {
            o = cJSON_CreateObject();
            cJSON *b = cJSON_AddObjectToObject(o, "balance");
            cJSON_AddStringToObject(b, "denom", r->balance->denom);
            cJSON_AddStringToObject(b, "amount", r->balance->amount);
        }
        if (r) wchain__query_balance_response__free_unpacked(r, NULL);
    } else if (strcmp(path, "/cosmos.bank.v1beta1.Query/AllBalances") == 0) {
        Wchain__QueryAllBalancesResponse *r = wchain__query_all_balances_response__unpack(NULL, len, v);
        if (r) {
            o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "balances", coins_json(r->balances, r->n_balances));
            cJSON_AddItemToObject(o, "pagination", page_json(r->pagination));
            wchain__query_all_balances_response__free_unpacked(r, NULL);
        }
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/SmartContractState") == 0) {
        Wchain__QuerySmartContractStateResponse *r =
            wchain__query_smart_contract_state_response__unpack(NULL, len, v);
        if (r) {
            o = cJSON_CreateObject();
            cJSON *d = cJSON_ParseWithLength((const char *)r->data.data, r->data.len);
            if (d)
                cJSON_AddItemToObject(o, "data", d);
            else
                add_b64(o, "data", r->data.data, r->data.len);
            wchain__query_smart_contract_state_response__free_unpacked(r, NULL);
        }
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/RawContractState") == 0) {
        Wchain__QueryRawContractStateResponse *r =
            wchain__query_raw_contract_state_response__unpack(NULL, len, v);
        if (r) {
            o = cJSON_CreateObject();
            add_b64(o, "data", r->data.data, r->data.len);
            wchain__query_raw_contract_state_response__free_unpacked(r, NULL);
        }
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/ContractInfo") == 0) {
        Wchain__QueryContractInfoResponse *r = wchain__query_contract_info_response__unpack(NULL, len, v);
        if (r && r->contract_info) {
            o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "address", r->address);
            cJSON *ci = cJSON_AddObjectToObject(o, "contract_info");
            add_u64(ci, "code_id", r->contract_info->code_id);
            cJSON_AddStringToObject(ci, "creator", r->contract_info->creator);
            cJSON_AddStringToObject(ci, "admin", r->contract_info->admin);
            cJSON_AddStringToObject(ci, "label", r->contract_info->label);
            cJSON *cr = cJSON_AddObjectToObject(ci, "created");
            add_u64(cr, "block_height",
                    r->contract_info->created ? r->contract_info->created->block_height : 0);
            add_u64(cr, "tx_index", r->contract_info->created ? r->contract_info->created->tx_index : 0);
            cJSON_AddStringToObject(ci, "ibc_port_id", "");
        }
        if (r) wchain__query_contract_info_response__free_unpacked(r, NULL);
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/Code") == 0) {
        Wchain__QueryCodeResponse *r = wchain__query_code_response__unpack(NULL, len, v);
        if (r && r->code_info) {
            o = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "code_info", code_info_json(r->code_info));
            add_u64(o, "size", r->data.len);
        }
        if (r) wchain__query_code_response__free_unpacked(r, NULL);
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/Codes") == 0) {
        Wchain__QueryCodesResponse *r = wchain__query_codes_response__unpack(NULL, len, v);
        if (r) {
            o = cJSON_CreateObject();
            cJSON *arr = cJSON_AddArrayToObject(o, "code_infos");
            for (size_t i = 0; i < r->n_code_infos; i++)
                cJSON_AddItemToArray(arr, code_info_json(r->code_infos[i]));
            cJSON_AddItemToObject(o, "pagination", page_json(r->pagination));
            wchain__query_codes_response__free_unpacked(r, NULL);
        }
    } else if (strcmp(path, "/cosmwasm.wasm.v1.Query/ContractsByCode") == 0) {
        Wchain__QueryContractsByCodeResponse *r =
            wchain__query_contracts_by_code_response__unpack(NULL, len, v);
        if (r) {
            o = cJSON_CreateObject();
            cJSON *arr = cJSON_AddArrayToObject(o, "contracts");
            for (size_t i = 0; i < r->n_contracts; i++)
                cJSON_AddItemToArray(arr, cJSON_CreateString(r->contracts[i]));
            cJSON_AddItemToObject(o, "pagination", page_json(r->pagination));
            wchain__query_contracts_by_code_response__free_unpacked(r, NULL);
        }
    } else if (strcmp(path, "/cosmos.tx.v1beta1.Service/Simulate") == 0) {
        Wchain__SimulateResponse *r = wchain__simulate_response__unpack(NULL, len, v);
        if (r && r->gas_info) {
            o = cJSON_CreateObject();
            cJSON *g = cJSON_AddObjectToObject(o, "gas_info");
            add_u64(g, "gas_wanted", r->gas_info->gas_wanted);
            add_u64(g, "gas_used", r->gas_info->gas_used);
            cJSON *res = cJSON_AddObjectToObject(o, "result");
            cJSON *evs = cJSON_AddArrayToObject(res, "events");
            for (size_t i = 0; r->result && i < r->result->n_events; i++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "type", r->result->events[i]->type);
                cJSON *at = cJSON_AddArrayToObject(e, "attributes");
                for (size_t k = 0; k < r->result->events[i]->n_attributes; k++) {
                    cJSON *x = cJSON_CreateObject();
                    cJSON_AddStringToObject(x, "key", r->result->events[i]->attributes[k]->key);
                    cJSON_AddStringToObject(x, "value", r->result->events[i]->attributes[k]->value);
                    cJSON_AddItemToArray(at, x);
                }
                cJSON_AddItemToArray(evs, e);
            }
        }
        if (r) wchain__simulate_response__free_unpacked(r, NULL);
    } else if (strcmp(path, "/wicas.ai.v1.Query/Request") == 0) {
        o = cJSON_ParseWithLength((const char *)v, len); /* the chain answers JSON */
    }
    if (!o) return NULL;
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
