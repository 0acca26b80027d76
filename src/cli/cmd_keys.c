/*
 * cmd_keys.c — `wicasd keys add|list|show|delete`: the file keyring (see
 * wicas_chain_keyring_* in chain.h: scrypt + AES-256-GCM at rest).
 *
 *   wicasd keys add NAME [--recover] [--output json]
 *   wicasd keys list [--output json]
 *   wicasd keys show NAME [-a|--address] [--output json]
 *   wicasd keys delete NAME [-y|--yes]
 * Common flags: --keyring-dir DIR (default HOME/keyring-file with --home
 * HOME, else $HOME/.wicasd/keyring-file), --keyring-passphrase P (else env
 * WICAS_KEYRING_PASSPHRASE, else a prompt on the terminal).
 * --recover reads an existing 64-hex-digit secp256k1 secret from stdin
 * (mnemonics are not supported; new keys are 32 random bytes).
 *
 * The two helpers below are also used by cmd_genesis.c and cmd_tx.c, which
 * declare them themselves (cli.h is shared and not ours to edit).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "chain.h"
#include "client.h"
#include "cli.h"
#include "common.h"
#include "flags.h"

int wicas_keys_dir(int argc, char **argv, char *out, size_t cap);
const char *wicas_keys_passphrase(int argc, char **argv, bool confirm);

int wicas_keys_dir(int argc, char **argv, char *out, size_t cap) {
    const char *d = wicas_flag(argc, argv, "--keyring-dir");
    const char *home = wicas_flag(argc, argv, "--home");
    if (d) return snprintf(out, cap, "%s", d) < (int)cap ? 0 : -1;
    if (home) return snprintf(out, cap, "%s/keyring-file", home) < (int)cap ? 0 : -1;
    const char *h = getenv("HOME");
    return snprintf(out, cap, "%s/.wicasd/keyring-file", h ? h : ".") < (int)cap ? 0 : -1;
}

/* Reads a line from the terminal without echo. */
static char *prompt(const char *text) {
    static char buf[256];
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) return NULL;
    fprintf(tty, "%s", text);
    fflush(tty);
    struct termios old, noecho;
    bool restore = tcgetattr(fileno(tty), &old) == 0;
    if (restore) {
        noecho = old;
        noecho.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
    }
    char *r = fgets(buf, sizeof buf, tty);
    if (restore) tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fprintf(tty, "\n");
    fclose(tty);
    if (!r) return NULL;
    buf[strcspn(buf, "\r\n")] = 0;
    return buf;
}

const char *wicas_keys_passphrase(int argc, char **argv, bool confirm) {
    const char *p = wicas_flag(argc, argv, "--keyring-passphrase");
    if (p) return p;
    p = getenv("WICAS_KEYRING_PASSPHRASE");
    if (p && *p) return p;
    char *first = prompt("Enter keyring passphrase: ");
    if (!first || !confirm) return first;
    static char keep[256];
    snprintf(keep, sizeof keep, "%s", first);
    char *again = prompt("Re-enter keyring passphrase: ");
    if (!again || strcmp(again, keep) != 0) {
        fprintf(stderr, "wicasd keys: passphrases do not match\n");
        return NULL;
    }
    return keep;
}

static cJSON *info_json(const wicas_chain_key_info *k) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", k->name);
    cJSON_AddStringToObject(o, "type", "local");
    cJSON_AddStringToObject(o, "address", k->address);
    char b64[64];
    wicas_base64_encode(k->pubkey, 33, b64);
    cJSON *pk = cJSON_AddObjectToObject(o, "pubkey");
    cJSON_AddStringToObject(pk, "@type", "/cosmos.crypto.secp256k1.PubKey");
    cJSON_AddStringToObject(pk, "key", b64);
    return o;
}

static void print_json(cJSON *o) {
    char *s = cJSON_Print(o);
    if (s) printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

static void print_info(const wicas_chain_key_info *k) {
    char b64[64];
    wicas_base64_encode(k->pubkey, 33, b64);
    printf("- name: %s\n  type: local\n  address: %s\n  pubkey: '{\"@type\":\"/cosmos.crypto.secp256k1.PubKey\",\"key\":\"%s\"}'\n",
           k->name, k->address, b64);
}

static void usage(FILE *f) {
    fprintf(f, "Usage:\n"
               "  wicasd keys add NAME [--recover] [--output json]\n"
               "  wicasd keys list [--output json]\n"
               "  wicasd keys show NAME [-a|--address] [--output json]\n"
               "  wicasd keys delete NAME [-y|--yes]\n\n"
               "Flags:\n"
               "  --keyring-dir DIR          keyring directory (default HOME/keyring-file, HOME from --home\n"
               "                             or ~/.wicasd)\n"
               "  --keyring-passphrase P     passphrase (else env WICAS_KEYRING_PASSPHRASE, else prompt)\n"
               "  --recover                  read an existing secret key (64 hex digits) from stdin\n"
               "  --output json              machine-readable output\n");
}

int wicas_cmd_keys(int argc, char **argv) {
    if (argc < 2 || wicas_flag_has(argc, argv, "-h") || wicas_flag_has(argc, argv, "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    const char *name = argc > 2 && argv[2][0] != '-' ? argv[2] : NULL;
    const char *out = wicas_flag(argc, argv, "--output");
    bool json = out && strcmp(out, "json") == 0;
    if (out && !json && strcmp(out, "text") != 0) {
        fprintf(stderr, "wicasd keys: --output must be text or json\n");
        return 2;
    }
    char dir[1024];
    if (wicas_keys_dir(argc, argv, dir, sizeof dir)) {
        fprintf(stderr, "wicasd keys: keyring directory path too long\n");
        return 2;
    }
    char err[512];
    if (strcmp(sub, "add") == 0) {
        if (!name) {
            fprintf(stderr, "wicasd keys add: NAME is required\n");
            return 2;
        }
        uint8_t secret[32], *sp = NULL;
        if (wicas_flag_has(argc, argv, "--recover")) {
            char line[256];
            if (isatty(0)) fprintf(stderr, "Enter the secret key (64 hex digits): ");
            if (!fgets(line, sizeof line, stdin)) {
                fprintf(stderr, "wicasd keys add: no secret key on stdin\n");
                return 1;
            }
            line[strcspn(line, "\r\n ")] = 0;
            if (strlen(line) != 64 || wicas_hex_decode(line, secret, 32)) {
                fprintf(stderr, "wicasd keys add: the secret must be 64 hex digits\n");
                return 1;
            }
            sp = secret;
        }
        const char *pass = wicas_keys_passphrase(argc, argv, true);
        if (!pass) {
            fprintf(stderr, "wicasd keys add: a keyring passphrase is required (--keyring-passphrase or WICAS_KEYRING_PASSPHRASE)\n");
            return 1;
        }
        wicas_chain_key_info k;
        int rc = wicas_chain_keyring_add(dir, name, pass, sp, &k, err, sizeof err);
        memset(secret, 0, sizeof secret);
        if (rc) {
            fprintf(stderr, "wicasd keys add: %s\n", err);
            return 1;
        }
        if (json) print_json(info_json(&k));
        else print_info(&k);
        return 0;
    }
    if (strcmp(sub, "list") == 0) {
        wicas_chain_key_info *ks;
        size_t n;
        if (wicas_chain_keyring_list(dir, &ks, &n, err, sizeof err)) {
            fprintf(stderr, "wicasd keys list: %s\n", err);
            return 1;
        }
        if (json) {
            cJSON *arr = cJSON_CreateArray();
            for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, info_json(&ks[i]));
            print_json(arr);
        } else {
            for (size_t i = 0; i < n; i++) print_info(&ks[i]);
            if (n == 0) printf("No keys in %s\n", dir);
        }
        free(ks);
        return 0;
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "delete") == 0) {
        if (!name) {
            fprintf(stderr, "wicasd keys %s: NAME is required\n", sub);
            return 2;
        }
        wicas_chain_key_info k;
        if (wicas_chain_keyring_info(dir, name, &k, err, sizeof err)) {
            fprintf(stderr, "wicasd keys %s: %s\n", sub, err);
            return 1;
        }
        if (strcmp(sub, "show") == 0) {
            if (wicas_flag_has(argc, argv, "-a") || wicas_flag_has(argc, argv, "--address"))
                printf("%s\n", k.address);
            else if (json) print_json(info_json(&k));
            else print_info(&k);
            return 0;
        }
        if (!(wicas_flag_has(argc, argv, "-y") || wicas_flag_has(argc, argv, "--yes"))) {
            if (!isatty(0)) {
                fprintf(stderr, "wicasd keys delete: pass -y to delete '%s' without a prompt\n", name);
                return 1;
            }
            fprintf(stderr, "Delete key '%s' (%s)? [y/N] ", name, k.address);
            char line[16];
            if (!fgets(line, sizeof line, stdin) || (line[0] != 'y' && line[0] != 'Y')) {
                fprintf(stderr, "Aborted.\n");
                return 1;
            }
        }
        if (wicas_chain_keyring_delete(dir, name, err, sizeof err)) {
            fprintf(stderr, "wicasd keys delete: %s\n", err);
            return 1;
        }
        printf("Key '%s' deleted\n", name);
        return 0;
    }
    fprintf(stderr, "wicasd keys: unknown sub-command '%s'\n\n", sub);
    usage(stderr);
    return 2;
}
