/*
 * cmd_keys.c — `wicasd keys add|list|show|delete|export|import`: the file keyring (see
 * wicas_chain_keyring_* in chain.h: scrypt + AES-256-GCM at rest).
 *
 *   wicasd keys add NAME [--recover] [--hd-path P | --account A --index I] [--no-backup] [--output json]
 *   wicasd keys list [--output json]
 *   wicasd keys show NAME [-a|--address] [--output json]
 *   wicasd keys delete NAME [-y|--yes]
 *   wicasd keys export NAME [--unarmored-hex --unsafe]
 *   wicasd keys import NAME FILE
 * export prints the key as ASCII armor encrypted under an export passphrase
 * (see wicas_chain_key_armor in client.h; the SDK's bcrypt/xsalsa20 armor is
 * not readable with OpenSSL, so the format is our own, documented there), or
 * with --unarmored-hex --unsafe the raw secret in hex (what --recover reads);
 * import reads that armor. The export passphrase is the first line of stdin
 * when stdin is not a terminal, else it is prompted for.
 * Common flags: --keyring-dir DIR (default HOME/keyring-file with --home
 * HOME, else $HOME/.wicasd/keyring-file), --keyring-passphrase P (else env
 * WICAS_KEYRING_PASSPHRASE, else a prompt on the terminal).
 * `keys add` makes a new 24-word BIP-39 mnemonic (entropy from OpenSSL's
 * RAND_bytes) and stores the key at the HD path (default m/44'/118'/0'/0/0,
 * the Cosmos SDK's and Keplr's: same mnemonic, same 20-byte address); the
 * mnemonic is printed once (text: on stderr after a warning, like the SDK;
 * json: a "mnemonic" field), unless --no-backup. Only the derived secret is
 * stored, not the mnemonic. --recover reads one line from stdin: a BIP-39
 * mnemonic (ASCII, English wordlist, checksum checked; see hd.c), or, as
 * before, a 64-hex-digit secp256k1 secret (then no HD path applies).
 * --account/--index give m/44'/118'/A'/0/I; --hd-path any BIP-32 path.
 *
 * The two helpers below are also used by cmd_genesis.c and cmd_tx.c, which
 * declare them themselves (cli.h is shared and not ours to edit).
 */
#include <cjson/cJSON.h>
#include <openssl/crypto.h>
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
    printf("- name: %s\n  type: local\n  address: %s\n  pubkey: "
           "'{\"@type\":\"/cosmos.crypto.secp256k1.PubKey\",\"key\":\"%s\"}'\n",
           k->name, k->address, b64);
}

/* A level of an HD path given by --account / --index: a decimal < 2^31. */
static int hd_level(int argc, char **argv, const char *name, unsigned long *v) {
    const char *s = wicas_flag(argc, argv, name);
    *v = 0;
    if (!s) return 0;
    char *end;
    if (*s < '0' || *s > '9' || (*v = strtoul(s, &end, 10), *end) || strlen(s) > 10 || *v >= 0x80000000ul) {
        fprintf(stderr, "wicasd keys add: %s must be a number below 2^31\n", name);
        return -1;
    }
    return 0;
}

/* The secret of `keys add`: from a new mnemonic (written to mnemonic), or
 * from what --recover reads on stdin. Prints the error and returns -1 on bad
 * input (nothing is created then). */
static int add_secret(int argc, char **argv, uint8_t secret[32], char *mnemonic, size_t mcap) {
    const char *hd = wicas_flag(argc, argv, "--hd-path");
    bool has_level = wicas_flag(argc, argv, "--account") || wicas_flag(argc, argv, "--index");
    unsigned long account, index;
    if (hd_level(argc, argv, "--account", &account) || hd_level(argc, argv, "--index", &index)) return -1;
    if (hd && has_level) {
        fprintf(stderr, "wicasd keys add: give either --hd-path or --account/--index\n");
        return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "m/44'/118'/%lu'/0/%lu", account, index);
    char err[512];
    int rc;
    if (wicas_flag_has(argc, argv, "--recover")) {
        char line[1024];
        if (isatty(0)) fprintf(stderr, "> Enter your bip39 mnemonic (or a 64-hex-digit secret key)\n");
        if (!fgets(line, sizeof line, stdin)) {
            fprintf(stderr, "wicasd keys add: no mnemonic or secret key on stdin\n");
            return -1;
        }
        if (!strchr(line, '\n') && !feof(stdin)) {
            OPENSSL_cleanse(line, sizeof line);
            fprintf(stderr, "wicasd keys add: input line too long for a mnemonic\n");
            return -1;
        }
        char *t = line + strspn(line, " \t");
        size_t tl = strcspn(t, " \t\r\n");
        char hex[65];
        bool is_hex = tl == 64 && t[tl + strspn(t + tl, " \t\r\n")] == 0;
        if (is_hex) memcpy(hex, t, 64), hex[64] = 0;
        if (is_hex && wicas_hex_decode(hex, secret, 32) == 0) {
            OPENSSL_cleanse(hex, sizeof hex);
            OPENSSL_cleanse(line, sizeof line);
            if (hd || has_level) {
                fprintf(stderr, "wicasd keys add: --hd-path/--account/--index apply to mnemonics, not to a "
                                "raw secret key\n");
                return -1;
            }
            return 0;
        }
        OPENSSL_cleanse(hex, sizeof hex);
        rc = wicas_hd_secret_from_mnemonic(line, NULL, hd ? hd : path, secret, err, sizeof err);
        OPENSSL_cleanse(line, sizeof line);
    } else {
        rc = wicas_bip39_generate(24, mnemonic, mcap, err, sizeof err);
        if (!rc) rc = wicas_hd_secret_from_mnemonic(mnemonic, NULL, hd ? hd : path, secret, err, sizeof err);
    }
    if (rc) {
        OPENSSL_cleanse(mnemonic, mcap);
        fprintf(stderr, "wicasd keys add: %s\n", err);
        return -1;
    }
    return 0;
}

/* The armor passphrase: the first line of stdin when it is not a terminal,
 * else prompted (twice when confirm). NULL when missing or empty. */
static const char *armor_passphrase(const char *what, bool confirm) {
    static char buf[256];
    if (!isatty(0)) {
        if (!fgets(buf, sizeof buf, stdin)) return NULL;
        buf[strcspn(buf, "\r\n")] = 0;
        return buf[0] ? buf : NULL;
    }
    char text[96];
    snprintf(text, sizeof text, "Enter passphrase to %s the exported key: ", what);
    char *p = prompt(text);
    if (!p || !*p) return NULL;
    snprintf(buf, sizeof buf, "%s", p);
    if (confirm) {
        p = prompt("Re-enter the passphrase: ");
        if (!p || strcmp(p, buf) != 0) return NULL;
    }
    return buf;
}

static int keys_export(int argc, char **argv, const char *dir, const char *name) {
    bool hex = wicas_flag_has(argc, argv, "--unarmored-hex");
    if (hex && !wicas_flag_has(argc, argv, "--unsafe")) {
        fprintf(stderr,
                "wicasd keys export: --unarmored-hex prints the secret in clear; add --unsafe to confirm\n");
        return 2;
    }
    char err[512];
    wicas_chain_key_info info;
    if (wicas_chain_keyring_info(dir, name, &info, err, sizeof err)) {
        fprintf(stderr, "wicasd keys export: %s\n", err);
        return 1;
    }
    const char *pass = wicas_keys_passphrase(argc, argv, false);
    uint8_t sk[32];
    if (!pass || wicas_chain_keyring_load(dir, name, pass, sk, NULL, err, sizeof err)) {
        fprintf(stderr, "wicasd keys export: %s\n", pass ? err : "a keyring passphrase is required");
        return 1;
    }
    int rc = 0;
    if (hex) {
        char h[65];
        wicas_hex_encode(sk, 32, h);
        printf("%s\n", h);
        OPENSSL_cleanse(h, sizeof h);
    } else {
        const char *ap = armor_passphrase("encrypt", true);
        char *armor = NULL;
        if (!ap) {
            fprintf(stderr, "wicasd keys export: an export passphrase is required (first line of stdin)\n");
            rc = 1;
        } else if (wicas_chain_key_armor(sk, ap, &armor, err, sizeof err)) {
            fprintf(stderr, "wicasd keys export: %s\n", err);
            rc = 1;
        } else {
            fputs(armor, stdout);
        }
        free(armor);
    }
    OPENSSL_cleanse(sk, sizeof sk);
    return rc;
}

static int keys_import(int argc, char **argv, const char *dir, const char *name, const char *file) {
    char err[512];
    size_t n;
    char *text = file ? (char *)wicas_read_file(file, 1 << 16, &n) : NULL;
    if (!text) {
        fprintf(stderr, "wicasd keys import: cannot read %s\n", file ? file : "(no FILE given)");
        return 1;
    }
    const char *ap = armor_passphrase("decrypt", false);
    uint8_t sk[32];
    if (!ap || wicas_chain_key_unarmor(text, ap, sk, err, sizeof err)) {
        free(text);
        fprintf(stderr, "wicasd keys import: %s\n",
                ap ? err : "an import passphrase is required (first line of stdin)");
        return 1;
    }
    free(text);
    const char *pass = wicas_keys_passphrase(argc, argv, true);
    wicas_chain_key_info k;
    int rc = pass ? wicas_chain_keyring_add(dir, name, pass, sk, &k, err, sizeof err) : -1;
    OPENSSL_cleanse(sk, sizeof sk);
    if (rc) {
        fprintf(stderr, "wicasd keys import: %s\n", pass ? err : "a keyring passphrase is required");
        return 1;
    }
    print_info(&k);
    return 0;
}

static void usage(FILE *f) {
    fprintf(f,
            "Usage:\n"
            "  wicasd keys add NAME [--recover] [--hd-path P | --account A --index I] [--no-backup]\n"
            "                  [--output json]\n"
            "  wicasd keys list [--output json]\n"
            "  wicasd keys show NAME [-a|--address] [--output json]\n"
            "  wicasd keys delete NAME [-y|--yes]\n"
            "  wicasd keys export NAME [--unarmored-hex --unsafe]\n"
            "  wicasd keys import NAME FILE\n\n"
            "Flags:\n"
            "  --keyring-dir DIR          keyring directory (default HOME/keyring-file, HOME from --home\n"
            "                             or ~/.wicasd)\n"
            "  --keyring-passphrase P     passphrase (else env WICAS_KEYRING_PASSPHRASE, else prompt)\n"
            "  --recover                  read a BIP-39 mnemonic (or a 64-hex-digit secret key) from stdin\n"
            "  --hd-path P                BIP-32 path of the key (default m/44'/118'/0'/0/0)\n"
            "  --account A, --index I     the path m/44'/118'/A'/0/I (default 0, 0)\n"
            "  --no-backup                do not print the new mnemonic\n"
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
        uint8_t secret[32];
        char mnemonic[WICAS_BIP39_MAX_LEN] = "";
        if (add_secret(argc, argv, secret, mnemonic, sizeof mnemonic)) return 1;
        const uint8_t *sp = secret;
        const char *pass = wicas_keys_passphrase(argc, argv, true);
        if (!pass) {
            fprintf(stderr, "wicasd keys add: a keyring passphrase is required (--keyring-passphrase or "
                            "WICAS_KEYRING_PASSPHRASE)\n");
            return 1;
        }
        wicas_chain_key_info k;
        int rc = wicas_chain_keyring_add(dir, name, pass, sp, &k, err, sizeof err);
        memset(secret, 0, sizeof secret);
        if (rc) {
            fprintf(stderr, "wicasd keys add: %s\n", err);
            return 1;
        }
        bool show = mnemonic[0] && !wicas_flag_has(argc, argv, "--no-backup");
        if (json) {
            cJSON *o = info_json(&k);
            if (show) cJSON_AddStringToObject(o, "mnemonic", mnemonic);
            print_json(o);
        } else {
            print_info(&k);
            if (show)
                fprintf(stderr,
                        "\n**Important** write this mnemonic phrase in a safe place.\n"
                        "It is the only way to recover your account if you ever forget your password.\n\n"
                        "%s\n\n",
                        mnemonic);
        }
        OPENSSL_cleanse(mnemonic, sizeof mnemonic);
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
            for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(arr, info_json(&ks[i]));
            print_json(arr);
        } else {
            for (size_t i = 0; i < n; i++)
                print_info(&ks[i]);
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
            else if (json)
                print_json(info_json(&k));
            else
                print_info(&k);
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
    if (strcmp(sub, "export") == 0 || strcmp(sub, "import") == 0) {
        if (!name) {
            fprintf(stderr, "wicasd keys %s: NAME is required\n", sub);
            return 2;
        }
        if (sub[0] == 'e') return keys_export(argc, argv, dir, name);
        return keys_import(argc, argv, dir, name, argc > 3 && argv[3][0] != '-' ? argv[3] : NULL);
    }
    fprintf(stderr, "wicasd keys: unknown sub-command '%s'\n\n", sub);
    usage(stderr);
    return 2;
}
