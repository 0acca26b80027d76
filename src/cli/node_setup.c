/*
 * node_setup.c — node home creation for `init` and `devnet` (see
 * node_setup.h). Keys come from cometbft itself (`cometbft init`), so their
 * formats are always the ones the pinned binary expects; we only edit the
 * two text files around them.
 */
#include "node_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

static void serr(char *err, size_t errlen, const char *fmt, const char *a, const char *b) {
    if (err && errlen) snprintf(err, errlen, fmt, a, b ? b : "");
}

bool wicas_node_valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 48) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

int wicas_node_setup_home(const wicas_node_setup *s, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/genesis.json", s->home);
    if (access(path, F_OK) == 0) {
        if (!s->overwrite) {
            serr(err, errlen, "%s already exists (use --overwrite to replace config and genesis)", path,
                 NULL);
            return -1;
        }
        unlink(path);
        snprintf(path, sizeof path, "%s/config/config.toml", s->home);
        unlink(path);
    }
    if (mkdir(s->home, 0755) != 0 && errno != EEXIST) {
        serr(err, errlen, "cannot create %s: %s", s->home, strerror(errno));
        return -1;
    }
    if (wicas_node_cometbft_init(s->home, err, errlen) != 0) return -1;
    wicas_node_config cfg = s->config;
    cfg.moniker = s->moniker;
    return wicas_node_configure(s->home, &cfg, err, errlen);
}

cJSON *wicas_node_default_app_state(void) {
    /* The chain's genesis sections, empty: no accounts, no balances, no
     * codes; params take the chain's defaults. `wicasd genesis add-account`
     * fills them in. */
    return cJSON_Parse("{\"auth\":{\"accounts\":[]},\"bank\":{\"balances\":[]},\"wasm\":{\"codes\":[]}}");
}

int wicas_node_write_genesis(const char *home, const char *chain_id, const cJSON *validators, char *err,
                             size_t errlen) {
    cJSON *as = wicas_node_default_app_state();
    if (!as) {
        serr(err, errlen, "out of memory%s%s", "", NULL);
        return -1;
    }
    int rc = wicas_node_genesis_edit(home, chain_id, as, WICAS_NODE_VOTE_EXT_HEIGHT, validators, err, errlen);
    cJSON_Delete(as);
    return rc;
}

cJSON *wicas_node_validator_entry(const char *home, const char *name, long power, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config/priv_validator_key.json", home);
    size_t len;
    char *text = (char *)wicas_read_file(path, 1 << 16, &len);
    if (!text) {
        serr(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    cJSON *k = cJSON_Parse(text);
    free(text);
    cJSON *addr = cJSON_GetObjectItemCaseSensitive(k, "address");
    cJSON *pk = cJSON_GetObjectItemCaseSensitive(k, "pub_key");
    if (!cJSON_IsString(addr) || !cJSON_IsObject(pk)) {
        cJSON_Delete(k);
        serr(err, errlen, "%s: missing address or pub_key%s", path, NULL);
        return NULL;
    }
    cJSON *v = cJSON_CreateObject();
    char pw[32];
    snprintf(pw, sizeof pw, "%ld", power);
    cJSON_AddStringToObject(v, "address", addr->valuestring);
    cJSON_AddItemToObject(v, "pub_key", cJSON_Duplicate(pk, 1));
    cJSON_AddStringToObject(v, "power", pw);
    cJSON_AddStringToObject(v, "name", name);
    cJSON_Delete(k);
    return v;
}
