/*
 * keyring.c — the file keyring behind `wicasd keys`: one JSON file per key,
 * the secret encrypted at rest (scrypt -> AES-256-GCM, both from OpenSSL).
 * Key generation reads /dev/urandom: it is client-side and never feeds
 * consensus. See chain.h for the file format's guarantees.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "common.h"

#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1

static int kerr(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int kerr(char *err, size_t errlen, int rc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wicas_verrf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

static bool name_ok(const char *n) {
    size_t l = n ? strlen(n) : 0;
    if (l == 0 || l > 63 || n[0] == '.') return false;
    for (size_t i = 0; i < l; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.' || c == '-'))
            return false;
    }
    return true;
}

static int key_path(const char *dir, const char *name, char *out, size_t cap, char *err, size_t errlen) {
    if (!dir || !*dir) return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "keyring directory not set");
    if (!name_ok(name))
        return kerr(
            err, errlen, WICAS_CHAIN_ERR_INVALID,
            "invalid key name '%s': use 1..63 of letters, digits, '_', '.', '-' (not starting with '.')",
            name ? name : "");
    if ((size_t)snprintf(out, cap, "%s/%s.key", dir, name) >= cap)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "keyring path too long");
    return 0;
}

/* mkdir -p with mode 0700 for the last component */
static int mkdirs(const char *dir) {
    char p[1024];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return -1;
    for (char *q = p + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        if (mkdir(p, 0755) && errno != EEXIST) return -1;
        *q = '/';
    }
    return mkdir(p, 0700) && errno != EEXIST ? -1 : 0;
}

static int derive(const char *pass, const uint8_t salt[16], uint8_t key[32]) {
    return EVP_PBE_scrypt(pass, strlen(pass), salt, 16, SCRYPT_N, SCRYPT_R, SCRYPT_P, 64u << 20, key, 32) == 1
               ? 0
               : -1;
}

/* AES-256-GCM; enc: in 32 bytes -> out 32 + tag 16. dec: reverse, tag checked. */
static int gcm(bool enc, const uint8_t key[32], const uint8_t nonce[12], const char *aad, const uint8_t *in,
               uint8_t *out, uint8_t tag[16]) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = c != NULL, n = 0;
    ok = ok && (enc ? EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce)
                    : EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, nonce));
    ok = ok && (enc ? EVP_EncryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad))
                    : EVP_DecryptUpdate(c, NULL, &n, (const uint8_t *)aad, (int)strlen(aad)));
    ok = ok && (enc ? EVP_EncryptUpdate(c, out, &n, in, 32) : EVP_DecryptUpdate(c, out, &n, in, 32));
    if (ok && !enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag);
    uint8_t fin[16];
    ok = ok && (enc ? EVP_EncryptFinal_ex(c, fin, &n) : EVP_DecryptFinal_ex(c, fin, &n));
    if (ok && enc) ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

static char *b64(const uint8_t *p, size_t n) {
    char *s = malloc(wicas_base64_encoded_len(n));
    if (s) wicas_base64_encode(p, n, s);
    return s;
}

static int unb64(const cJSON *j, uint8_t *out, size_t want) {
    if (!cJSON_IsString(j)) return -1;
    uint8_t buf[128];
    long n = wicas_base64_decode(j->valuestring, strlen(j->valuestring), buf, sizeof buf);
    if (n != (long)want) return -1;
    memcpy(out, buf, want);
    return 0;
}

static int read_random(uint8_t *p, size_t n) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    return 0;
}

int wicas_chain_keyring_add(const char *dir, const char *name, const char *passphrase, const uint8_t *secret,
                            wicas_chain_key_info *out, char *err, size_t errlen) {
    char path[1024];
    int rc = key_path(dir, name, path, sizeof path, err, errlen);
    if (rc) return rc;
    if (!passphrase || !*passphrase)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "empty keyring passphrase");
    if (mkdirs(dir))
        return kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot create keyring directory %s: %s", dir,
                    strerror(errno));
    if (access(path, F_OK) == 0)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "key '%s' already exists in %s", name, dir);
    uint8_t sk[32], pk[33];
    if (secret) {
        memcpy(sk, secret, 32);
    } else {
        for (int tries = 0;; tries++) {
            if (tries == 8 || read_random(sk, 32))
                return kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot read /dev/urandom");
            if (wicas_chain_pubkey_from_secret(sk, pk) == 0) break;
        }
    }
    if (wicas_chain_pubkey_from_secret(sk, pk))
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "the secret is not a valid secp256k1 key");
    wicas_chain_key_info info;
    memset(&info, 0, sizeof info);
    snprintf(info.name, sizeof info.name, "%s", name);
    memcpy(info.pubkey, pk, 33);
    uint8_t a[20];
    wicas_chain_pubkey_address(pk, a);
    wicas_chain_addr_encode(a, 20, info.address, sizeof info.address);
    uint8_t salt[16], nonce[12], key[32], ct[32], tag[16];
    char aad[200];
    snprintf(aad, sizeof aad, "%s|%s", info.name, info.address);
    if (read_random(salt, 16) || read_random(nonce, 12) || derive(passphrase, salt, key) ||
        gcm(true, key, nonce, aad, sk, ct, tag)) {
        memset(sk, 0, sizeof sk);
        memset(key, 0, sizeof key);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "key encryption failed");
    }
    memset(sk, 0, sizeof sk);
    memset(key, 0, sizeof key);
    uint8_t sealed[48];
    memcpy(sealed, ct, 32);
    memcpy(sealed + 32, tag, 16);
    char pkh[67];
    wicas_hex_encode(pk, 33, pkh);
    char *s_salt = b64(salt, 16), *s_nonce = b64(nonce, 12), *s_ct = b64(sealed, 48);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", info.name);
    cJSON_AddStringToObject(j, "type", "local");
    cJSON_AddStringToObject(j, "address", info.address);
    cJSON_AddStringToObject(j, "pubkey_hex", pkh);
    cJSON_AddStringToObject(j, "kdf", "scrypt");
    cJSON_AddNumberToObject(j, "scrypt_n", SCRYPT_N);
    cJSON_AddNumberToObject(j, "scrypt_r", SCRYPT_R);
    cJSON_AddNumberToObject(j, "scrypt_p", SCRYPT_P);
    cJSON_AddStringToObject(j, "salt", s_salt ? s_salt : "");
    cJSON_AddStringToObject(j, "cipher", "aes-256-gcm");
    cJSON_AddStringToObject(j, "nonce", s_nonce ? s_nonce : "");
    cJSON_AddStringToObject(j, "ciphertext", s_ct ? s_ct : "");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    free(s_salt), free(s_nonce), free(s_ct);
    if (!text) return kerr(err, errlen, WICAS_CHAIN_ERR_NOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(text);
        return kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    size_t tl = strlen(text);
    bool ok = write(fd, text, tl) == (ssize_t)tl && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
    close(fd);
    free(text);
    if (!ok) {
        unlink(path);
        return kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot write %s", path);
    }
    if (out) *out = info;
    return 0;
}

static int read_key(const char *dir, const char *name, cJSON **j, wicas_chain_key_info *info, char *err,
                    size_t errlen) {
    char path[1024];
    int rc = key_path(dir, name, path, sizeof path, err, errlen);
    if (rc) return rc;
    size_t n;
    char *text = (char *)wicas_read_file(path, 1 << 16, &n);
    if (!text)
        return errno == ENOENT
                   ? kerr(err, errlen, WICAS_CHAIN_ERR_NOT_FOUND, "key '%s' not found in %s", name, dir)
                   : kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    *j = cJSON_Parse(text);
    free(text);
    const cJSON *addr = cJSON_GetObjectItemCaseSensitive(*j, "address");
    const cJSON *pk = cJSON_GetObjectItemCaseSensitive(*j, "pubkey_hex");
    memset(info, 0, sizeof *info);
    uint8_t a20[20], ab[32];
    size_t al;
    if (!*j || !cJSON_IsString(addr) || !cJSON_IsString(pk) || strlen(pk->valuestring) != 66 ||
        wicas_hex_decode(pk->valuestring, info->pubkey, 33) ||
        wicas_chain_addr_decode(addr->valuestring, ab, &al)) {
        cJSON_Delete(*j);
        *j = NULL;
        return kerr(err, errlen, WICAS_CHAIN_ERR_CORRUPT, "key file %s is malformed", path);
    }
    wicas_chain_pubkey_address(info->pubkey, a20);
    if (al != 20 || memcmp(a20, ab, 20) != 0) {
        cJSON_Delete(*j);
        *j = NULL;
        return kerr(err, errlen, WICAS_CHAIN_ERR_CORRUPT,
                    "key file %s: address does not match its public key", path);
    }
    snprintf(info->name, sizeof info->name, "%s", name);
    snprintf(info->address, sizeof info->address, "%s", addr->valuestring);
    return 0;
}

int wicas_chain_keyring_info(const char *dir, const char *name, wicas_chain_key_info *out, char *err,
                             size_t errlen) {
    cJSON *j = NULL;
    int rc = read_key(dir, name, &j, out, err, errlen);
    cJSON_Delete(j);
    return rc;
}

int wicas_chain_keyring_load(const char *dir, const char *name, const char *passphrase, uint8_t secret[32],
                             wicas_chain_key_info *out, char *err, size_t errlen) {
    cJSON *j = NULL;
    wicas_chain_key_info info;
    int rc = read_key(dir, name, &j, &info, err, errlen);
    if (rc) return rc;
    uint8_t salt[16], nonce[12], sealed[48], key[32], sk[32], pk[33];
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, "scrypt_n");
    if (unb64(cJSON_GetObjectItemCaseSensitive(j, "salt"), salt, 16) ||
        unb64(cJSON_GetObjectItemCaseSensitive(j, "nonce"), nonce, 12) ||
        unb64(cJSON_GetObjectItemCaseSensitive(j, "ciphertext"), sealed, 48) || !cJSON_IsNumber(n) ||
        n->valueint != SCRYPT_N) {
        cJSON_Delete(j);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CORRUPT, "key '%s': malformed encryption fields", name);
    }
    cJSON_Delete(j);
    char aad[200];
    snprintf(aad, sizeof aad, "%s|%s", info.name, info.address);
    if (!passphrase || derive(passphrase, salt, key) ||
        gcm(false, key, nonce, aad, sealed, sk, sealed + 32)) {
        memset(key, 0, sizeof key);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "key '%s': wrong passphrase or modified key file",
                    name);
    }
    memset(key, 0, sizeof key);
    if (wicas_chain_pubkey_from_secret(sk, pk) || memcmp(pk, info.pubkey, 33) != 0) {
        memset(sk, 0, sizeof sk);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CORRUPT,
                    "key '%s': decrypted secret does not match the public key", name);
    }
    if (secret) memcpy(secret, sk, 32);
    memset(sk, 0, sizeof sk);
    if (out) *out = info;
    return 0;
}

static int info_cmp(const void *a, const void *b) {
    return strcmp(((const wicas_chain_key_info *)a)->name, ((const wicas_chain_key_info *)b)->name);
}

int wicas_chain_keyring_list(const char *dir, wicas_chain_key_info **out, size_t *n, char *err,
                             size_t errlen) {
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT
                   ? 0
                   : kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot open %s: %s", dir, strerror(errno));
    struct dirent *e;
    size_t cap = 0;
    int rc = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".key") != 0 || l - 4 > 63) continue;
        char name[64];
        memcpy(name, e->d_name, l - 4);
        name[l - 4] = 0;
        if (!name_ok(name)) continue;
        wicas_chain_key_info info;
        if (wicas_chain_keyring_info(dir, name, &info, NULL, 0)) continue; /* skip unreadable files */
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            wicas_chain_key_info *nw = realloc(*out, cap * sizeof *nw);
            if (!nw) {
                rc = kerr(err, errlen, WICAS_CHAIN_ERR_NOMEM, "out of memory");
                break;
            }
            *out = nw;
        }
        (*out)[(*n)++] = info;
    }
    closedir(d);
    if (*n) qsort(*out, *n, sizeof **out, info_cmp);
    return rc;
}

int wicas_chain_keyring_delete(const char *dir, const char *name, char *err, size_t errlen) {
    char path[1024];
    int rc = key_path(dir, name, path, sizeof path, err, errlen);
    if (rc) return rc;
    if (unlink(path))
        return errno == ENOENT
                   ? kerr(err, errlen, WICAS_CHAIN_ERR_NOT_FOUND, "key '%s' not found in %s", name, dir)
                   : kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot delete %s: %s", path, strerror(errno));
    return 0;
}

/* ---- armored export / import ------------------------------------------------------
 * The same scrypt + AES-256-GCM as the key files, under the export
 * passphrase, with the header lines as authenticated data (so none can be
 * altered). */
#define ARMOR_BEGIN "-----BEGIN WICAS PRIVATE KEY-----"
#define ARMOR_END "-----END WICAS PRIVATE KEY-----"

static void armor_aad(char *aad, size_t cap, const char *salt_hex, const char *nonce_hex) {
    snprintf(aad, cap, "wicas-armor-v1|kdf:scrypt|n:%d|r:%d|p:%d|salt:%s|nonce:%s|type:secp256k1", SCRYPT_N,
             SCRYPT_R, SCRYPT_P, salt_hex, nonce_hex);
}

int wicas_chain_key_armor(const uint8_t secret[32], const char *passphrase, char **out, char *err,
                          size_t errlen) {
    *out = NULL;
    uint8_t pk[33];
    if (wicas_chain_pubkey_from_secret(secret, pk))
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "the secret is not a valid secp256k1 key");
    if (!passphrase || !*passphrase)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "empty export passphrase");
    uint8_t salt[16], nonce[12], key[32], sealed[48];
    char salt_hex[33], nonce_hex[25], aad[256];
    if (read_random(salt, 16) || read_random(nonce, 12))
        return kerr(err, errlen, WICAS_CHAIN_ERR_IO, "cannot read /dev/urandom");
    wicas_hex_encode(salt, 16, salt_hex);
    wicas_hex_encode(nonce, 12, nonce_hex);
    armor_aad(aad, sizeof aad, salt_hex, nonce_hex);
    int bad = derive(passphrase, salt, key) || gcm(true, key, nonce, aad, secret, sealed, sealed + 32);
    memset(key, 0, sizeof key);
    if (bad) return kerr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "key encryption failed");
    char body[80];
    wicas_base64_encode(sealed, 48, body);
    size_t cap = 512;
    char *s = malloc(cap);
    if (!s) return kerr(err, errlen, WICAS_CHAIN_ERR_NOMEM, "out of memory");
    snprintf(s, cap,
             ARMOR_BEGIN "\nkdf: scrypt\nscrypt-n: %d\nscrypt-r: %d\nscrypt-p: %d\nsalt: %s\nnonce: %s\n"
                         "cipher: aes-256-gcm\ntype: secp256k1\n\n%s\n" ARMOR_END "\n",
             SCRYPT_N, SCRYPT_R, SCRYPT_P, salt_hex, nonce_hex, body);
    *out = s;
    return 0;
}

/* Value of header "name: value" in the armor's header block, or NULL. */
static const char *armor_header(const char *hdr, const char *name, char *val, size_t cap) {
    size_t nl = strlen(name);
    for (const char *p = hdr; *p && *p != '\n';) {
        const char *e = strchr(p, '\n');
        if (!e) return NULL;
        if ((size_t)(e - p) > nl + 2 && strncmp(p, name, nl) == 0 && p[nl] == ':' && p[nl + 1] == ' ') {
            size_t vl = (size_t)(e - p) - nl - 2;
            if (vl >= cap) return NULL;
            memcpy(val, p + nl + 2, vl);
            val[vl] = 0;
            return val;
        }
        p = e + 1;
    }
    return NULL;
}

int wicas_chain_key_unarmor(const char *text, const char *passphrase, uint8_t secret[32], char *err,
                            size_t errlen) {
    const char *b = text ? strstr(text, ARMOR_BEGIN "\n") : NULL;
    const char *hdr = b ? b + strlen(ARMOR_BEGIN) + 1 : NULL;
    const char *blank = hdr ? strstr(hdr, "\n\n") : NULL;
    const char *end = blank ? strstr(blank, ARMOR_END) : NULL;
    if (!end)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID,
                    "not an armored WICAS private key (expected '" ARMOR_BEGIN
                    "', headers, a blank line, the body, '" ARMOR_END "')");
    char v[64], salt_hex[64], nonce_hex[64], aad[256];
    char want[16];
    struct {
        const char *name, *want;
    } fixed[] = {{"kdf", "scrypt"}, {"cipher", "aes-256-gcm"}, {"type", "secp256k1"}};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!armor_header(hdr, fixed[i].name, v, sizeof v) || strcmp(v, fixed[i].want) != 0)
            return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "armor header '%s' must be '%s'", fixed[i].name,
                        fixed[i].want);
    const char *nums[3] = {"scrypt-n", "scrypt-r", "scrypt-p"};
    int numv[3] = {SCRYPT_N, SCRYPT_R, SCRYPT_P};
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof want, "%d", numv[i]);
        if (!armor_header(hdr, nums[i], v, sizeof v) || strcmp(v, want) != 0)
            return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "armor header '%s' must be %s", nums[i], want);
    }
    uint8_t salt[16], nonce[12], sealed[48], key[32], sk[32], pk[33];
    if (!armor_header(hdr, "salt", salt_hex, sizeof salt_hex) || wicas_hex_decode(salt_hex, salt, 16) ||
        !armor_header(hdr, "nonce", nonce_hex, sizeof nonce_hex) || wicas_hex_decode(nonce_hex, nonce, 12))
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "armor: bad salt or nonce header");
    const char *body = blank + 2;
    size_t bl = (size_t)(end - body);
    while (bl && (body[bl - 1] == '\n' || body[bl - 1] == '\r'))
        bl--;
    if (wicas_base64_decode(body, bl, sealed, sizeof sealed) != 48)
        return kerr(err, errlen, WICAS_CHAIN_ERR_INVALID, "armor: the body is not 48 bytes of base64");
    for (char *q = salt_hex; *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'F' ? *q - 'A' + 'a' : *q);
    for (char *q = nonce_hex; *q; q++)
        *q = (char)(*q >= 'A' && *q <= 'F' ? *q - 'A' + 'a' : *q);
    armor_aad(aad, sizeof aad, salt_hex, nonce_hex);
    if (!passphrase || derive(passphrase, salt, key) ||
        gcm(false, key, nonce, aad, sealed, sk, sealed + 32)) {
        memset(key, 0, sizeof key);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CRYPTO, "armor: wrong passphrase or modified key");
    }
    memset(key, 0, sizeof key);
    if (wicas_chain_pubkey_from_secret(sk, pk)) {
        memset(sk, 0, sizeof sk);
        return kerr(err, errlen, WICAS_CHAIN_ERR_CORRUPT, "armor: the key is not a valid secp256k1 key");
    }
    memcpy(secret, sk, 32);
    memset(sk, 0, sizeof sk);
    return 0;
}
