/*
 * tokenizer.c — GPT-2 byte-level BPE and SentencePiece-style (llama) BPE
 * tokenizers built from GGUF metadata, and chat-template formatting.
 *
 * Layout of this file:
 *   1. small helpers: output sink, string hash table (text -> id), pair table
 *      (id pair -> merge rank), binary heap;
 *   2. construction (copy vocabulary into one arena, build the tables);
 *   3. special-token partitioning of the input text;
 *   4. GPT-2 path: digit split + GPT-2 pattern split, byte->unicode mapping,
 *      rank-ordered merges;
 *   5. llama path: "▁" escaping, score-ordered merges, <0xXX> byte fallback;
 *   6. decoding (token -> bytes), end-of-generation test;
 *   7. chat templates.
 *
 * Why this shape: the result must match the reference tokenizers id for id
 * and be identical on every validator, so every choice is by rank/score then
 * position, hash tables serve lookups only (never iterated for output), and
 * the merge loops use a heap so pathological inputs (a megabyte of one letter)
 * stay O(n log n).
 */
#include "tokenizer.h"
#include "unicode.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================================
 * 1. helpers
 * ============================================================================ */

const char *wicas_tok_strerror(int err) {
    switch (err) {
    case WICAS_TOK_OK:
        return "ok";
    case WICAS_TOK_EINVAL:
        return "invalid argument or tokenizer configuration";
    case WICAS_TOK_ENOMEM:
        return "out of memory";
    case WICAS_TOK_ENOSPC:
        return "output buffer too small";
    case WICAS_TOK_ERANGE:
        return "token id out of range";
    case WICAS_TOK_EUTF8:
        return "invalid UTF-8";
    case WICAS_TOK_ENOTOKEN:
        return "text has no token (no unknown-token or byte fallback)";
    case WICAS_TOK_ETEMPLATE:
        return "chat template not recognised or bad message";
    default:
        return "unknown error";
    }
}

int wicas_tok_err_class(int err) {
    return err == WICAS_TOK_OK       ? 0 /* WICAS_ERRCLASS_NONE */
           : err == WICAS_TOK_ENOMEM ? 2 /* NODE */
                                     : 1 /* REQUEST */;
}

static uint64_t fnv1a(const void *p, size_t n) {
    const uint8_t *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix64(uint64_t x) { /* splitmix64 finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

/* Token ids written to a caller buffer; counts past the end so the caller
 * learns the size needed. */
typedef struct {
    int32_t *out;
    size_t cap, n;
} sink;

static inline void emit(sink *s, int32_t id) {
    if (s->n < s->cap) s->out[s->n] = id;
    s->n++;
}

/* ============================================================================
 * 2. the tokenizer object
 * ============================================================================ */

typedef struct {
    uint64_t key; /* (node << 8 | byte) + 1; 0: empty slot */
    uint32_t child;
} trie_edge;

typedef struct {
    uint64_t key;   /* (left id << 32) | right id */
    int32_t rank;   /* -1: empty slot */
    int32_t merged; /* id of the merged token */
} pair_slot;

struct wicas_tokenizer {
    wicas_tok_kind kind;
    bool split_digits;  /* pre-tokenizer puts every \p{N} on its own */
    bool qwen2_pattern; /* pre "qwen2": Qwen2's pattern instead of GPT-2's */
    uint32_t n_vocab;
    char *arena;         /* all token texts, back to back */
    uint32_t *off, *len; /* text of token i = arena[off[i] .. off[i]+len[i]) */
    float *scores;       /* n_vocab (zeros when absent) */
    int32_t *types;      /* n_vocab (NORMAL when absent) */

    uint32_t *str_slots; /* open addressing, id+1 (0 = empty) */
    size_t str_mask;

    pair_slot *pairs; /* GPT-2 merges */
    size_t pair_mask;

    /* Special tokens (CONTROL / USER_DEFINED / UNKNOWN) in a byte trie: node
     * 0 is the root, edges in an open-addressing table keyed by (node, byte),
     * and per node the lowest id whose text ends there (any special type /
     * USER_DEFINED only), -1 if none. One walk per text position finds the
     * longest special starting there in O(its length), however many
     * specials the vocabulary has (Gemma 3: 6414). */
    size_t n_specials;
    trie_edge *trie_edges;
    size_t trie_mask;
    int32_t *trie_term_any, *trie_term_user;
    uint32_t trie_nodes;
    bool has_user_defined; /* some special is USER_DEFINED (always matched) */

    uint16_t byte_to_cp[256]; /* GPT-2 byte -> code point */
    int16_t cp_to_byte[512];  /* inverse (code points < 512), -1 if none */
    int32_t byte_tok[256];    /* GPT-2: id of the one-char token of byte b;
                                 llama: id of "<0xXX>", -1 if absent */

    int32_t bos, eos, unk, pad, eot;
    bool add_bos, add_eos;
    bool space_prefix; /* llama kind: "▁" at the start / after specials */

    wicas_chat_style chat_style;
    char *default_system; /* NULL when the template has none */
};

static inline const char *tok_text(const wicas_tokenizer *t, int32_t id) {
    return t->arena + t->off[id];
}

/* id of the token whose text is s[0..n), or -1. */
static int32_t str_lookup(const wicas_tokenizer *t, const void *s, size_t n) {
    size_t i = (size_t)fnv1a(s, n) & t->str_mask;
    for (;;) {
        uint32_t v = t->str_slots[i];
        if (v == 0) return -1;
        int32_t id = (int32_t)(v - 1);
        if (t->len[id] == n && memcmp(tok_text(t, id), s, n) == 0) return id;
        i = (i + 1) & t->str_mask;
    }
}

/* Pair lookup: returns the slot or NULL. */
static const pair_slot *pair_lookup(const wicas_tokenizer *t, int32_t a, int32_t b) {
    if (!t->pairs) return NULL;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)mix64(key) & t->pair_mask;
    for (;;) {
        const pair_slot *p = &t->pairs[i];
        if (p->rank < 0) return NULL;
        if (p->key == key) return p;
        i = (i + 1) & t->pair_mask;
    }
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n)
        c <<= 1;
    return c;
}

void wicas_tok_free(wicas_tokenizer *t) {
    if (!t) return;
    free(t->arena);
    free(t->off);
    free(t->len);
    free(t->scores);
    free(t->types);
    free(t->str_slots);
    free(t->pairs);
    free(t->trie_edges);
    free(t->trie_term_any);
    free(t->trie_term_user);
    free(t->default_system);
    free(t);
}

/* GPT-2's table: printable Latin-1 bytes map to themselves, the other 68
 * bytes to U+0100.. in byte order, so every byte has a visible character. */
static void build_byte_map(wicas_tokenizer *t) {
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        bool keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        t->byte_to_cp[b] = (uint16_t)(keep ? (uint32_t)b : next++);
    }
    for (int i = 0; i < 512; i++)
        t->cp_to_byte[i] = -1;
    for (int b = 0; b < 256; b++)
        t->cp_to_byte[t->byte_to_cp[b]] = (int16_t)b;
}

static bool is_special_type(int32_t ty) {
    return ty == WICAS_TOKTYPE_CONTROL || ty == WICAS_TOKTYPE_USER_DEFINED || ty == WICAS_TOKTYPE_UNKNOWN;
}

/* Child of node on byte b, or 0 (the root is never a child). */
static uint32_t trie_child(const wicas_tokenizer *t, uint32_t node, uint8_t b) {
    uint64_t key = (((uint64_t)node << 8) | b) + 1;
    size_t i = (size_t)mix64(key) & t->trie_mask;
    for (;;) {
        const trie_edge *e = &t->trie_edges[i];
        if (e->key == 0) return 0;
        if (e->key == key) return e->child;
        i = (i + 1) & t->trie_mask;
    }
}

/* Builds the special-token trie (t->n_specials > 0, total_len = sum of their
 * text lengths, which bounds the node count). Ids are inserted in increasing
 * order, so a node's terminal is the lowest id with that text. */
static int build_special_trie(wicas_tokenizer *t, size_t total_len) {
    size_t max_nodes = total_len + 1;
    t->trie_term_any = malloc(sizeof *t->trie_term_any * max_nodes);
    t->trie_term_user = malloc(sizeof *t->trie_term_user * max_nodes);
    size_t cap = pow2_at_least(total_len * 2 + 2);
    t->trie_edges = calloc(cap, sizeof *t->trie_edges);
    if (!t->trie_term_any || !t->trie_term_user || !t->trie_edges) return WICAS_TOK_ENOMEM;
    t->trie_mask = cap - 1;
    t->trie_nodes = 1;
    t->trie_term_any[0] = t->trie_term_user[0] = -1;
    for (uint32_t id = 0; id < t->n_vocab; id++) {
        if (!is_special_type(t->types[id]) || t->len[id] == 0) continue;
        const uint8_t *s = (const uint8_t *)tok_text(t, (int32_t)id);
        uint32_t node = 0;
        for (uint32_t k = 0; k < t->len[id]; k++) {
            uint32_t c = trie_child(t, node, s[k]);
            if (c == 0) {
                c = t->trie_nodes++;
                t->trie_term_any[c] = t->trie_term_user[c] = -1;
                uint64_t key = (((uint64_t)node << 8) | s[k]) + 1;
                size_t i = (size_t)mix64(key) & t->trie_mask;
                while (t->trie_edges[i].key != 0)
                    i = (i + 1) & t->trie_mask;
                t->trie_edges[i].key = key;
                t->trie_edges[i].child = c;
            }
            node = c;
        }
        if (t->trie_term_any[node] < 0) t->trie_term_any[node] = (int32_t)id;
        if (t->types[id] == WICAS_TOKTYPE_USER_DEFINED && t->trie_term_user[node] < 0)
            t->trie_term_user[node] = (int32_t)id;
    }
    return 0;
}

/* Finds the default system prompt a ChatML template inserts when the first
 * message is not a system message (SmolLM2 does this). Looks for the literal
 * "<|im_start|>system" + newline (raw, or the two characters \n) inside the
 * template together with a test against the 'system' role, and takes the text
 * up to the next "<|im_end|>", turning \n escapes into newlines. */
static char *find_default_system(const char *tpl, size_t n) {
    static const char head[] = "<|im_start|>system";
    const size_t hl = sizeof head - 1;
    bool has_test = false;
    static const char *tests[] = {"!= 'system'", "!= \"system\"", "!='system'", "!=\"system\""};
    for (size_t k = 0; k < 4 && !has_test; k++) {
        size_t tl = strlen(tests[k]);
        for (size_t i = 0; i + tl <= n; i++)
            if (memcmp(tpl + i, tests[k], tl) == 0) {
                has_test = true;
                break;
            }
    }
    if (!has_test) return NULL;
    for (size_t i = 0; i + hl <= n; i++) {
        if (memcmp(tpl + i, head, hl) != 0) continue;
        size_t p = i + hl;
        if (p < n && tpl[p] == '\n')
            p += 1;
        else if (p + 1 < n && tpl[p] == '\\' && tpl[p + 1] == 'n')
            p += 2;
        else
            continue;
        /* a default prompt is literal text: it must not start a Jinja
         * expression such as "' + message['content']" */
        size_t end = p;
        while (end + 10 <= n && memcmp(tpl + end, "<|im_end|>", 10) != 0)
            end++;
        if (end + 10 > n) return NULL;
        for (size_t k = p; k < end; k++)
            if (tpl[k] == '\'' || tpl[k] == '"' || tpl[k] == '{' || tpl[k] == '}') goto next;
        char *s = malloc(end - p + 1);
        if (!s) return NULL;
        size_t o = 0;
        for (size_t k = p; k < end; k++) {
            if (tpl[k] == '\\' && k + 1 < end && tpl[k + 1] == 'n') {
                s[o++] = '\n';
                k++;
            } else
                s[o++] = tpl[k];
        }
        s[o] = 0;
        return s;
    next:;
    }
    return NULL;
}

static bool contains(const char *s, size_t n, const char *needle) {
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(s + i, needle, nl) == 0) return true;
    return false;
}

static bool str_eq(wicas_tok_str s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.ptr, lit, n) == 0);
}

/* Whether the vocabulary has a CONTROL token with exactly this text. */
static bool is_control(const wicas_tokenizer *t, const char *text) {
    int32_t id = str_lookup(t, text, strlen(text));
    return id >= 0 && t->types[id] == WICAS_TOKTYPE_CONTROL;
}

int wicas_tok_new(const wicas_tok_config *cfg, wicas_tokenizer **out, char *err, size_t errlen) {
    if (out) *out = NULL;
    if (!cfg || !out) {
        wicas_errf(err, errlen, "tokenizer: NULL config or output pointer");
        return WICAS_TOK_EINVAL;
    }
    if (cfg->kind != WICAS_TOK_GPT2 && cfg->kind != WICAS_TOK_LLAMA) {
        wicas_errf(err, errlen, "tokenizer: unknown kind %d", (int)cfg->kind);
        return WICAS_TOK_EINVAL;
    }
    if (cfg->n_vocab == 0 || !cfg->tokens || cfg->n_vocab > 0x7fffffffu - 1) {
        wicas_errf(err, errlen, "tokenizer: empty or missing vocabulary (n_vocab=%u)", cfg->n_vocab);
        return WICAS_TOK_EINVAL;
    }
    if (cfg->n_merges > 0 && !cfg->merges) {
        wicas_errf(err, errlen, "tokenizer: %u merges announced but none given", cfg->n_merges);
        return WICAS_TOK_EINVAL;
    }
    const int32_t ids[5] = {cfg->bos_id, cfg->eos_id, cfg->unk_id, cfg->pad_id, cfg->eot_id};
    static const char *id_names[5] = {"bos", "eos", "unk", "pad", "eot"};
    for (int i = 0; i < 5; i++) {
        if (ids[i] < -1 || (ids[i] >= 0 && (uint32_t)ids[i] >= cfg->n_vocab)) {
            wicas_errf(err, errlen, "tokenizer: %s id %d outside vocabulary of %u", id_names[i], ids[i],
                       cfg->n_vocab);
            return WICAS_TOK_EINVAL;
        }
    }
    size_t total = 0;
    for (uint32_t i = 0; i < cfg->n_vocab; i++) {
        if (cfg->tokens[i].len > 0 && !cfg->tokens[i].ptr) {
            wicas_errf(err, errlen, "tokenizer: token %u has a NULL text", i);
            return WICAS_TOK_EINVAL;
        }
        total += cfg->tokens[i].len;
    }

    if (total > 0xffffffffu) {
        wicas_errf(err, errlen, "tokenizer: vocabulary texts exceed 4 GiB");
        return WICAS_TOK_EINVAL;
    }

    wicas_tokenizer *t = calloc(1, sizeof *t);
    if (!t) goto nomem;
    t->kind = cfg->kind;
    t->n_vocab = cfg->n_vocab;
    t->bos = cfg->bos_id;
    t->eos = cfg->eos_id;
    t->unk = cfg->unk_id;
    t->pad = cfg->pad_id;
    t->eot = cfg->eot_id;
    t->add_bos = cfg->add_bos;
    t->add_eos = cfg->add_eos;
    t->space_prefix = !cfg->no_space_prefix;
    /* Pre-tokenizers (tokenizer.ggml.pre) we implement, by the names
     * llama.cpp's converter writes: those whose rules are the GPT-2 pattern
     * with every \p{N} split off first, and those that are the bare GPT-2
     * pattern (also used when "pre" is absent). Anything else (llama-bpe,
     * qwen2, deepseek, ...) has other rules: refuse it rather than produce
     * ids the model was not trained on. */
    if (cfg->kind == WICAS_TOK_GPT2) {
        static const char *digit_split[] = {"smollm",    "starcoder", "refact",    "command-r",
                                            "codeshell", "exaone",    "minerva-7b"};
        static const char *plain[] = {"gpt2", "gpt-2", "mpt", "olmo", "jais"};
        static const char *qwen2[] = {"qwen2", "deepseek-r1-qwen"};
        bool known = cfg->pre.len == 0 || !cfg->pre.ptr;
        for (size_t i = 0; i < sizeof qwen2 / sizeof qwen2[0] && !known; i++)
            if (str_eq(cfg->pre, qwen2[i])) known = t->qwen2_pattern = true;
        for (size_t i = 0; i < sizeof digit_split / sizeof digit_split[0] && !known; i++)
            if (str_eq(cfg->pre, digit_split[i])) known = t->split_digits = true;
        for (size_t i = 0; i < sizeof plain / sizeof plain[0] && !known; i++)
            if (str_eq(cfg->pre, plain[i])) known = true;
        if (!known) {
            wicas_errf(
                err, errlen,
                "tokenizer: pre-tokenizer '%.*s' is not supported (gpt2-style, smollm-style and qwen2 only)",
                (int)(cfg->pre.len > 40 ? 40 : cfg->pre.len), cfg->pre.ptr);
            wicas_tok_free(t);
            return WICAS_TOK_EINVAL;
        }
    }

    t->arena = malloc(total + 1);
    t->off = malloc(sizeof *t->off * cfg->n_vocab);
    t->len = malloc(sizeof *t->len * cfg->n_vocab);
    t->scores = calloc(cfg->n_vocab, sizeof *t->scores);
    t->types = malloc(sizeof *t->types * cfg->n_vocab);
    if (!t->arena || !t->off || !t->len || !t->scores || !t->types) goto nomem;
    size_t pos = 0;
    for (uint32_t i = 0; i < cfg->n_vocab; i++) {
        if (cfg->tokens[i].len) memcpy(t->arena + pos, cfg->tokens[i].ptr, cfg->tokens[i].len);
        t->off[i] = (uint32_t)pos;
        t->len[i] = cfg->tokens[i].len;
        pos += cfg->tokens[i].len;
        t->scores[i] = cfg->scores ? cfg->scores[i] : 0.0f;
        t->types[i] = cfg->token_types ? cfg->token_types[i] : WICAS_TOKTYPE_NORMAL;
    }

    /* text -> id; on duplicate texts the lowest id wins */
    size_t cap = pow2_at_least((size_t)cfg->n_vocab * 2);
    t->str_slots = calloc(cap, sizeof *t->str_slots);
    if (!t->str_slots) goto nomem;
    t->str_mask = cap - 1;
    for (uint32_t i = 0; i < cfg->n_vocab; i++) {
        if (str_lookup(t, tok_text(t, (int32_t)i), t->len[i]) >= 0) continue;
        size_t h = (size_t)fnv1a(tok_text(t, (int32_t)i), t->len[i]) & t->str_mask;
        while (t->str_slots[h])
            h = (h + 1) & t->str_mask;
        t->str_slots[h] = i + 1;
    }

    /* special tokens: the trie */
    size_t special_bytes = 0;
    for (uint32_t i = 0; i < cfg->n_vocab; i++)
        if (is_special_type(t->types[i]) && t->len[i] > 0) {
            t->n_specials++;
            special_bytes += t->len[i];
            if (t->types[i] == WICAS_TOKTYPE_USER_DEFINED) t->has_user_defined = true;
        }
    if (t->n_specials && build_special_trie(t, special_bytes)) goto nomem;

    build_byte_map(t);
    for (int b = 0; b < 256; b++) {
        if (t->kind == WICAS_TOK_GPT2) {
            uint8_t u[4];
            size_t n = wicas_utf8_encode(t->byte_to_cp[b], u);
            t->byte_tok[b] = str_lookup(t, u, n);
        } else {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            t->byte_tok[b] = str_lookup(t, name, 6);
        }
    }

    /* merges: "left right" -> rank; keep the first (best) rank of duplicates */
    if (cfg->n_merges > 0) {
        size_t pcap = pow2_at_least((size_t)cfg->n_merges * 2);
        t->pairs = malloc(sizeof *t->pairs * pcap);
        if (!t->pairs) goto nomem;
        t->pair_mask = pcap - 1;
        for (size_t i = 0; i < pcap; i++)
            t->pairs[i].rank = -1;
        char *buf = NULL;
        size_t bufcap = 0;
        for (uint32_t r = 0; r < cfg->n_merges; r++) {
            wicas_tok_str m = cfg->merges[r];
            if (m.len < 3 || !m.ptr) continue;
            /* split at the first space after the first byte (a part is never empty) */
            const char *sp = memchr(m.ptr + 1, ' ', m.len - 1);
            if (!sp) continue;
            size_t la = (size_t)(sp - m.ptr), lb = m.len - la - 1;
            int32_t a = str_lookup(t, m.ptr, la), b = str_lookup(t, sp + 1, lb);
            if (a < 0 || b < 0 || lb == 0) continue;
            if (la + lb > bufcap) {
                char *nb = realloc(buf, la + lb);
                if (!nb) {
                    free(buf);
                    goto nomem;
                }
                buf = nb;
                bufcap = la + lb;
            }
            memcpy(buf, m.ptr, la);
            memcpy(buf + la, sp + 1, lb);
            int32_t ab = str_lookup(t, buf, la + lb);
            if (ab < 0) continue;
            uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
            size_t h = (size_t)mix64(key) & t->pair_mask;
            while (t->pairs[h].rank >= 0 && t->pairs[h].key != key)
                h = (h + 1) & t->pair_mask;
            if (t->pairs[h].rank >= 0) continue; /* duplicate: earlier rank stays */
            t->pairs[h].key = key;
            t->pairs[h].rank = (int32_t)r;
            t->pairs[h].merged = ab;
        }
        free(buf);
    }

    /* chat template style */
    const char *tpl = cfg->chat_template.ptr;
    size_t tl = tpl ? cfg->chat_template.len : 0;
    if (tl && contains(tpl, tl, "<|im_start|>")) {
        t->chat_style = WICAS_CHAT_CHATML;
        t->default_system = find_default_system(tpl, tl);
    } else if (tl && contains(tpl, tl, "[INST]")) {
        t->chat_style = WICAS_CHAT_LLAMA2;
    } else if (tl && contains(tpl, tl, "<|user|>")) {
        t->chat_style = WICAS_CHAT_ZEPHYR;
    } else if (tl && contains(tpl, tl, "<start_of_turn>")) {
        t->chat_style = WICAS_CHAT_GEMMA;
    } else if (tl == 0 && is_control(t, "<start_of_turn>") && is_control(t, "<end_of_turn>")) {
        /* no template in the file (the published Gemma 3 270M GGUF has
         * none): the vocabulary's turn markers name the family */
        t->chat_style = WICAS_CHAT_GEMMA;
    } else if (tl == 0 && is_control(t, "<|im_start|>") && is_control(t, "<|im_end|>")) {
        t->chat_style = WICAS_CHAT_CHATML;
    } else {
        t->chat_style = WICAS_CHAT_UNKNOWN;
    }

    *out = t;
    return WICAS_TOK_OK;
nomem:
    wicas_tok_free(t);
    wicas_errf(err, errlen, "tokenizer: out of memory building a vocabulary of %u tokens", cfg->n_vocab);
    return WICAS_TOK_ENOMEM;
}

uint32_t wicas_tok_n_vocab(const wicas_tokenizer *t) {
    return t ? t->n_vocab : 0;
}
int32_t wicas_tok_bos(const wicas_tokenizer *t) {
    return t ? t->bos : -1;
}
int32_t wicas_tok_eos(const wicas_tokenizer *t) {
    return t ? t->eos : -1;
}
bool wicas_tok_add_bos_default(const wicas_tokenizer *t) {
    return t && t->add_bos;
}
wicas_chat_style wicas_tok_chat_style(const wicas_tokenizer *t) {
    return t ? t->chat_style : WICAS_CHAT_UNKNOWN;
}

/* ============================================================================
 * Merge machinery shared by both kinds: symbols in a doubly linked list over
 * an array, candidate pairs in a binary heap ordered by (priority, left index).
 * ============================================================================ */

typedef struct {
    int32_t id;     /* GPT-2: current token id; llama: unused (-1) */
    uint32_t start; /* byte span in the word buffer */
    uint32_t len;
    int32_t prev, next;
} sym;

typedef struct {
    double prio; /* smaller pops first (rank, or -score) */
    int32_t left, right;
    uint32_t left_len, right_len; /* lengths when queued (stale check) */
    int32_t merged;               /* GPT-2: merged id; llama: merged id too */
} cand_pair;

typedef struct {
    sym *syms;
    size_t syms_cap;
    cand_pair *heap;
    size_t heap_n, heap_cap;
    uint8_t *buf; /* word bytes (GPT-2: byte-mapped UTF-8; llama: escaped text) */
    size_t buf_cap;
    uint32_t *cps;   /* code points of a segment */
    uint8_t *cls;    /* their classes */
    uint32_t *cpoff; /* their byte offsets (+1 entry for the end) */
    size_t cp_cap;
} scratch;

static void scratch_free(scratch *s) {
    free(s->syms);
    free(s->heap);
    free(s->buf);
    free(s->cps);
    free(s->cls);
    free(s->cpoff);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *np = realloc(*p, c * elem);
    if (!np) return WICAS_TOK_ENOMEM;
    *p = np;
    *cap = c;
    return 0;
}

static inline bool pair_before(const cand_pair *a, const cand_pair *b) {
    if (a->prio != b->prio) return a->prio < b->prio;
    return a->left < b->left;
}

static int heap_push(scratch *s, cand_pair c) {
    if (grow((void **)&s->heap, &s->heap_cap, s->heap_n + 1, sizeof *s->heap)) return WICAS_TOK_ENOMEM;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!pair_before(&c, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = c;
    return 0;
}

static cand_pair heap_pop(scratch *s) {
    cand_pair top = s->heap[0];
    cand_pair last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const cand_pair *mv = &last;
        if (l < n && pair_before(&s->heap[l], mv)) {
            m = l;
            mv = &s->heap[l];
        }
        if (r < n && pair_before(&s->heap[r], mv)) {
            m = r;
        }
        if (m == i) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (n > 0) s->heap[i] = last;
    return top;
}

/* ============================================================================
 * 4. GPT-2 byte-level BPE
 * ============================================================================ */

/* queue the pair (l, r) if a merge exists for it */
static int gpt2_try_pair(const wicas_tokenizer *t, scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0 || s->syms[l].id < 0 || s->syms[r].id < 0) return 0;
    const pair_slot *p = pair_lookup(t, s->syms[l].id, s->syms[r].id);
    if (!p) return 0;
    cand_pair c = {(double)p->rank, l, r, s->syms[l].len, s->syms[r].len, p->merged};
    return heap_push(s, c);
}

/* BPE over one pre-tokenized word text[0..n) (raw bytes). */
static int gpt2_word(const wicas_tokenizer *t, scratch *s, const uint8_t *w, size_t n, sink *out) {
    if (n == 0) return 0;
    if (n > 0x7ffffff0u) return WICAS_TOK_EINVAL;
    if (grow((void **)&s->syms, &s->syms_cap, n, sizeof *s->syms)) return WICAS_TOK_ENOMEM;
    sym *y = s->syms;
    for (size_t i = 0; i < n; i++) {
        y[i].id = t->byte_tok[w[i]];
        y[i].start = (uint32_t)i;
        y[i].len = 1;
        y[i].prev = (int32_t)i - 1;
        y[i].next = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (gpt2_try_pair(t, s, (int32_t)i, (int32_t)i + 1)) return WICAS_TOK_ENOMEM;
    while (s->heap_n > 0) {
        cand_pair c = heap_pop(s);
        sym *L = &y[c.left], *R = &y[c.right];
        /* stale? (either side merged since it was queued) */
        if (L->len == 0 || R->len == 0 || L->next != c.right || L->len != c.left_len || R->len != c.right_len)
            continue;
        L->id = c.merged;
        L->len += R->len;
        L->next = R->next;
        if (R->next >= 0) y[R->next].prev = c.left;
        R->len = 0;
        if (gpt2_try_pair(t, s, L->prev, c.left)) return WICAS_TOK_ENOMEM;
        if (gpt2_try_pair(t, s, c.left, L->next)) return WICAS_TOK_ENOMEM;
    }
    /* A byte whose character is not in the vocabulary (SmolLM2 lacks 21 of
     * them, e.g. 0x04, 0xC0, 0xF5..0xFF) is dropped, as
     * llama.cpp and Hugging Face tokenizers (no unk token) both do. Emitting
     * unk instead would be worse: SmolLM2's unk is <|endoftext|>, an
     * end-of-generation token. */
    for (int32_t i = 0; i >= 0; i = y[i].next)
        if (y[i].id >= 0) emit(out, y[i].id);
    return 0;
}

/* Decodes seg[0..n) into code points, classes and byte offsets. */
static int decode_segment(scratch *s, const uint8_t *seg, size_t n, size_t *ncp) {
    if (grow((void **)&s->cps, &s->cp_cap, n + 1, sizeof *s->cps)) return WICAS_TOK_ENOMEM;
    /* cls and cpoff share cp_cap; (re)allocate them to the same size */
    uint8_t *cls = realloc(s->cls, s->cp_cap);
    if (!cls) return WICAS_TOK_ENOMEM;
    s->cls = cls;
    uint32_t *off = realloc(s->cpoff, s->cp_cap * sizeof *off);
    if (!off) return WICAS_TOK_ENOMEM;
    s->cpoff = off;
    size_t k = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t l = wicas_utf8_decode(seg + i, n - i, &cp);
        s->cps[k] = cp;
        s->cls[k] = (uint8_t)((cp & WICAS_UTF8_INVALID) ? WICAS_UCLASS_OTHER : wicas_unicode_class(cp));
        s->cpoff[k] = (uint32_t)i;
        k++;
        i += l;
    }
    s->cpoff[k] = (uint32_t)n;
    *ncp = k;
    return 0;
}

/* The GPT-2 pattern
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * applied by hand to code points [a, b) of the decoded segment: returns the
 * end of the match starting at a (alternatives tried in order, as a
 * backtracking regex engine would). */
static size_t gpt2_match(const scratch *s, size_t a, size_t b) {
    const uint32_t *cp = s->cps;
    const uint8_t *cl = s->cls;
    /* contractions (lower case only, as in the pattern) */
    if (cp[a] == '\'' && a + 1 < b) {
        uint32_t c1 = cp[a + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return a + 2;
        if (a + 2 < b) {
            uint32_t c2 = cp[a + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                return a + 3;
        }
    }
    /* optional single ' ' then a run of one class */
    size_t p = a;
    if (cp[p] == ' ' && p + 1 < b && cl[p + 1] != WICAS_UCLASS_SPACE) p++;
    int c = cl[p];
    if (c != WICAS_UCLASS_SPACE) {
        size_t e = p;
        while (e < b && cl[e] == c)
            e++;
        return e;
    }
    /* white space: \s+(?!\S) — the run, minus its last char if a non-space follows */
    size_t e = a;
    while (e < b && cl[e] == WICAS_UCLASS_SPACE)
        e++;
    if (e == b) return e;
    if (e - a >= 2) return e - 1;
    return e; /* \s+ (a single space char before a non-space that nothing else took) */
}

/* Qwen2's pattern (tokenizer.ggml.pre "qwen2", as llama.cpp writes it)
 *   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}
 *   | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
 * applied by hand to code points [a, b): the end of the match at a. Unlike
 * GPT-2's: contractions in any case, one non-letter (not CR/LF, not a
 * digit) may lead a run of letters, every digit stands alone, punctuation
 * takes the line breaks after it, and a white-space run ending in line
 * breaks is one piece up to its last CR/LF. */
static size_t qwen2_match(const scratch *s, size_t a, size_t b) {
    const uint32_t *cp = s->cps;
    const uint8_t *cl = s->cls;
#define LOWER(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
    if (cp[a] == '\'' && a + 1 < b) {
        uint32_t c1 = LOWER(cp[a + 1]);
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return a + 2;
        if (a + 2 < b) {
            uint32_t c2 = LOWER(cp[a + 2]);
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                return a + 3;
        }
    }
#undef LOWER
    /* [^\r\n\p{L}\p{N}]?\p{L}+ */
    if (cp[a] != '\r' && cp[a] != '\n' && cl[a] != WICAS_UCLASS_NUMBER &&
        (cl[a] == WICAS_UCLASS_LETTER || (a + 1 < b && cl[a + 1] == WICAS_UCLASS_LETTER))) {
        size_t e = a + 1;
        while (e < b && cl[e] == WICAS_UCLASS_LETTER)
            e++;
        return e;
    }
    /* \p{N} */
    if (cl[a] == WICAS_UCLASS_NUMBER) return a + 1;
    /* ' '?[^\s\p{L}\p{N}]+[\r\n]* (a lone ' ' at the end is matched here too) */
    size_t p = a + (cp[a] == ' ');
    if (p == b || cl[p] == WICAS_UCLASS_OTHER) {
        while (p < b && cl[p] == WICAS_UCLASS_OTHER)
            p++;
        while (p < b && (cp[p] == '\r' || cp[p] == '\n'))
            p++;
        return p;
    }
    /* white space: \s*[\r\n]+ up to the run's last CR/LF, else \s+(?!\S), else \s+ */
    size_t e = a, last_rn = 0;
    while (e < b && cl[e] == WICAS_UCLASS_SPACE) {
        if (cp[e] == '\r' || cp[e] == '\n') last_rn = e + 1;
        e++;
    }
    if (last_rn > 0) return last_rn;
    if (e - a > 1 && e < b) return e - 1;
    if (e > a) return e;
    return a + 1;
}

/* Pre-tokenizes and encodes one raw text segment (no special tokens in it). */
static int gpt2_segment(const wicas_tokenizer *t, scratch *s, const uint8_t *seg, size_t n, sink *out) {
    size_t ncp;
    int rc = decode_segment(s, seg, n, &ncp);
    if (rc) return rc;
    size_t a = 0;
    while (a < ncp) {
        /* the digit rule splits first: a lone \p{N} is a piece; otherwise the
         * piece runs to the next \p{N} */
        size_t b;
        if (t->split_digits) {
            if (s->cls[a] == WICAS_UCLASS_NUMBER)
                b = a + 1;
            else {
                b = a;
                while (b < ncp && s->cls[b] != WICAS_UCLASS_NUMBER)
                    b++;
            }
        } else {
            b = ncp;
        }
        while (a < b) {
            size_t e = t->qwen2_pattern ? qwen2_match(s, a, b) : gpt2_match(s, a, b);
            rc = gpt2_word(t, s, seg + s->cpoff[a], s->cpoff[e] - s->cpoff[a], out);
            if (rc) return rc;
            a = e;
        }
    }
    return 0;
}

/* ============================================================================
 * 5. SentencePiece-style BPE (llama)
 * ============================================================================ */

static int spm_try_pair(const wicas_tokenizer *t, scratch *s, int32_t l, int32_t r) {
    if (l < 0 || r < 0) return 0;
    const sym *L = &s->syms[l], *R = &s->syms[r];
    int32_t id = str_lookup(t, s->buf + L->start, (size_t)L->len + R->len);
    if (id < 0) return 0;
    /* highest score first: priority is the negated score */
    cand_pair c = {-(double)t->scores[id], l, r, L->len, R->len, id};
    return heap_push(s, c);
}

/* Encodes escaped text s->buf[0..n) ("▁" for spaces). */
static int spm_text(const wicas_tokenizer *t, scratch *s, size_t n, sink *out) {
    if (n == 0) return 0;
    if (n > 0x7ffffff0u) return WICAS_TOK_EINVAL;
    if (grow((void **)&s->syms, &s->syms_cap, n, sizeof *s->syms)) return WICAS_TOK_ENOMEM;
    sym *y = s->syms;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        /* one symbol per valid UTF-8 character; a malformed sequence is split
         * into single bytes. (llama.cpp takes as many bytes as the lead byte
         * announces, valid or not, which can swallow the "▁" of a following
         * space into byte tokens and lose the space on decoding; we keep the
         * round trip exact instead. Valid text splits identically.) */
        uint32_t cp;
        size_t l = wicas_utf8_decode(s->buf + i, n - i, &cp);
        y[k].id = -1;
        y[k].start = (uint32_t)i;
        y[k].len = (uint32_t)l;
        y[k].prev = (int32_t)k - 1;
        y[k].next = -1;
        if (k > 0) y[k - 1].next = (int32_t)k;
        k++;
        i += l;
    }
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < k; i++)
        if (spm_try_pair(t, s, (int32_t)i, (int32_t)i + 1)) return WICAS_TOK_ENOMEM;
    while (s->heap_n > 0) {
        cand_pair c = heap_pop(s);
        sym *L = &y[c.left], *R = &y[c.right];
        if (L->len == 0 || R->len == 0 || L->next != c.right || L->len != c.left_len || R->len != c.right_len)
            continue;
        L->len += R->len;
        L->id = c.merged;
        L->next = R->next;
        if (R->next >= 0) y[R->next].prev = c.left;
        R->len = 0;
        if (spm_try_pair(t, s, L->prev, c.left)) return WICAS_TOK_ENOMEM;
        if (spm_try_pair(t, s, c.left, L->next)) return WICAS_TOK_ENOMEM;
    }
    for (int32_t i = 0; i >= 0; i = y[i].next) {
        int32_t id = y[i].id >= 0 ? y[i].id : str_lookup(t, s->buf + y[i].start, y[i].len);
        if (id >= 0) {
            emit(out, id);
            continue;
        }
        /* byte fallback: every byte as <0xXX>, else unk for the whole symbol */
        bool bytes_ok = true;
        for (uint32_t j = 0; j < y[i].len; j++)
            bytes_ok &= t->byte_tok[s->buf[y[i].start + j]] >= 0;
        if (bytes_ok) {
            for (uint32_t j = 0; j < y[i].len; j++)
                emit(out, t->byte_tok[s->buf[y[i].start + j]]);
        } else if (t->unk >= 0) {
            emit(out, t->unk);
        } else {
            return WICAS_TOK_ENOTOKEN;
        }
    }
    return 0;
}

/* Escapes seg (with an optional leading space) into s->buf and encodes it. */
static int spm_segment(const wicas_tokenizer *t, scratch *s, const uint8_t *seg, size_t n, bool prefix_space,
                       sink *out) {
    size_t need = (n + 1) * 3;
    if (grow((void **)&s->buf, &s->buf_cap, need, 1)) return WICAS_TOK_ENOMEM;
    size_t o = 0;
    static const uint8_t SP[3] = {0xE2, 0x96, 0x81}; /* U+2581 */
    if (prefix_space) {
        memcpy(s->buf, SP, 3);
        o = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == ' ') {
            memcpy(s->buf + o, SP, 3);
            o += 3;
        } else
            s->buf[o++] = seg[i];
    }
    return spm_text(t, s, o, out);
}

/* ============================================================================
 * 3. special-token partitioning and the encode entry point
 * ============================================================================ */

/* Longest special token starting at text[i] (lowest id among equal
 * texts), or -1. Without parse_special only USER_DEFINED tokens count (as in
 * llama.cpp and HF tokenizers, where such "added tokens" are always matched).
 *
 * Leftmost-longest: llama.cpp instead lets each special, longest first, claim
 * its occurrences anywhere in the text. The two agree unless a suffix of one
 * special is a prefix of a longer one of a different text (runs of one
 * character excepted, where both give the same split); none of the
 * vocabularies the engine is checked against has such a pair (Gemma 3's 6414
 * specials: only newline/space/tab runs overlap). */
static int32_t match_special(const wicas_tokenizer *t, const uint8_t *text, size_t n, size_t i,
                             bool parse_special) {
    const int32_t *term = parse_special ? t->trie_term_any : t->trie_term_user;
    int32_t best = -1;
    uint32_t node = 0;
    for (size_t k = i; k < n; k++) {
        node = trie_child(t, node, text[k]);
        if (node == 0) break;
        if (term[node] >= 0) best = term[node];
    }
    return best;
}

static int encode_raw(const wicas_tokenizer *t, scratch *s, const uint8_t *seg, size_t n, bool *prev_special,
                      sink *out) {
    int rc;
    if (t->kind == WICAS_TOK_GPT2) {
        rc = n ? gpt2_segment(t, s, seg, n, out) : 0;
    } else {
        /* llama.cpp's behaviour: a space is prefixed at the start of the text
         * and after each special token */
        rc = n ? spm_segment(t, s, seg, n, t->space_prefix && *prev_special, out) : 0;
    }
    if (n) *prev_special = false;
    return rc;
}

static uint64_t encode_calls; /* wicas_tok_encode_calls: atomic, relaxed */

uint64_t wicas_tok_encode_calls(void) {
    return __atomic_load_n(&encode_calls, __ATOMIC_RELAXED);
}

int wicas_tok_encode(const wicas_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                     int32_t *out, size_t cap, size_t *n_out) {
    __atomic_fetch_add(&encode_calls, 1, __ATOMIC_RELAXED);
    if (n_out) *n_out = 0;
    if (!t || !n_out || (!text && len > 0) || (!out && cap > 0)) return WICAS_TOK_EINVAL;
    sink sk = {out, cap, 0};
    scratch s;
    memset(&s, 0, sizeof s);
    const uint8_t *p = (const uint8_t *)text;
    int rc = 0;
    bool prev_special = true;

    if (add_bos && t->bos >= 0) emit(&sk, t->bos);
    size_t seg = 0;
    if ((parse_special && t->n_specials) || t->has_user_defined) {
        for (size_t i = 0; i < len;) {
            int32_t id = match_special(t, p, len, i, parse_special);
            if (id < 0) {
                i++;
                continue;
            }
            rc = encode_raw(t, &s, p + seg, i - seg, &prev_special, &sk);
            if (rc) goto done;
            emit(&sk, id);
            prev_special = true;
            i += t->len[id];
            seg = i;
        }
    }
    rc = encode_raw(t, &s, p + seg, len - seg, &prev_special, &sk);
    if (rc) goto done;
    if (add_bos && t->add_eos && t->eos >= 0) emit(&sk, t->eos);
done:
    scratch_free(&s);
    if (rc) return rc;
    *n_out = sk.n;
    return sk.n > cap ? WICAS_TOK_ENOSPC : 0;
}

/* ============================================================================
 * 6. decoding
 * ============================================================================ */

static int put(char *buf, size_t cap, size_t *o, const void *src, size_t n) {
    if (*o + n <= cap) memcpy(buf + *o, src, n);
    *o += n;
    return 0;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int wicas_tok_piece(const wicas_tokenizer *t, int32_t id, char *buf, size_t cap, size_t *n) {
    if (n) *n = 0;
    if (!t || !n || (!buf && cap > 0)) return WICAS_TOK_EINVAL;
    if (id < 0 || (uint32_t)id >= t->n_vocab) return WICAS_TOK_ERANGE;
    const char *s = tok_text(t, id);
    size_t l = t->len[id], o = 0;
    int ty = t->types[id];
    if (ty == WICAS_TOKTYPE_CONTROL || ty == WICAS_TOKTYPE_USER_DEFINED) {
        put(buf, cap, &o, s, l);
    } else if (t->kind == WICAS_TOK_GPT2) {
        for (size_t i = 0; i < l;) {
            uint32_t cp;
            size_t k = wicas_utf8_decode((const uint8_t *)s + i, l - i, &cp);
            if (cp < 512 && t->cp_to_byte[cp] >= 0) {
                uint8_t b = (uint8_t)t->cp_to_byte[cp];
                put(buf, cap, &o, &b, 1);
            } else {
                put(buf, cap, &o, s + i, k); /* not a byte-level char: copy as is */
            }
            i += k;
        }
    } else {
        int hi, lo;
        if (ty == WICAS_TOKTYPE_BYTE && l == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' &&
            (hi = hexval(s[3])) >= 0 && (lo = hexval(s[4])) >= 0) {
            uint8_t b = (uint8_t)(hi * 16 + lo);
            put(buf, cap, &o, &b, 1);
        } else {
            for (size_t i = 0; i < l;) {
                if (i + 3 <= l && (uint8_t)s[i] == 0xE2 && (uint8_t)s[i + 1] == 0x96 &&
                    (uint8_t)s[i + 2] == 0x81) {
                    put(buf, cap, &o, " ", 1);
                    i += 3;
                } else {
                    put(buf, cap, &o, s + i, 1);
                    i++;
                }
            }
        }
    }
    *n = o;
    return o > cap ? WICAS_TOK_ENOSPC : 0;
}

bool wicas_tok_is_eog(const wicas_tokenizer *t, int32_t id) {
    if (!t || id < 0 || (uint32_t)id >= t->n_vocab) return false;
    if (id == t->eos || id == t->eot) return true;
    if (t->types[id] != WICAS_TOKTYPE_CONTROL) return false;
    static const char *names[] = {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<end_of_turn>"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t nl = strlen(names[i]);
        if (t->len[id] == nl && memcmp(tok_text(t, id), names[i], nl) == 0) return true;
    }
    return false;
}

/* ============================================================================
 * 7. chat templates
 * ============================================================================ */

typedef struct {
    char *buf;
    size_t cap, n;
} strout;

static void sput(strout *o, const char *s) {
    size_t l = strlen(s);
    if (o->n + l <= o->cap) memcpy(o->buf + o->n, s, l);
    o->n += l;
}

/* Appends s without leading/trailing ASCII white space (C isspace). */
static void sput_trim(strout *o, const char *s) {
    size_t a = 0, b = strlen(s);
    while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    while (b > a && (s[b - 1] == ' ' || (s[b - 1] >= '\t' && s[b - 1] <= '\r')))
        b--;
    if (o->n + (b - a) <= o->cap) memcpy(o->buf + o->n, s + a, b - a);
    o->n += b - a;
}

static bool role_ok(const char *r) {
    return r && (strcmp(r, "system") == 0 || strcmp(r, "user") == 0 || strcmp(r, "assistant") == 0);
}

int wicas_tok_apply_chat_style(const wicas_tokenizer *t, wicas_chat_style style, const wicas_chat_msg *msgs,
                               size_t n, bool add_generation_prompt, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!t || !n_out || (!msgs && n > 0) || (!out && cap > 0)) return WICAS_TOK_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!role_ok(msgs[i].role) || !msgs[i].content) return WICAS_TOK_ETEMPLATE;
    strout o = {out, cap, 0};
    switch (style) {
    case WICAS_CHAT_CHATML:
        /* SmolLM2's template: a default system turn when the first message
         * is not a system message (also when there are no messages at all the
         * template's loop never runs, so nothing is inserted then) */
        if (t->default_system && n > 0 && strcmp(msgs[0].role, "system") != 0) {
            sput(&o, "<|im_start|>system\n");
            sput(&o, t->default_system);
            sput(&o, "<|im_end|>\n");
        }
        for (size_t i = 0; i < n; i++) {
            sput(&o, "<|im_start|>");
            sput(&o, msgs[i].role);
            sput(&o, "\n");
            sput(&o, msgs[i].content);
            sput(&o, "<|im_end|>\n");
        }
        if (add_generation_prompt) sput(&o, "<|im_start|>assistant\n");
        break;
    case WICAS_CHAT_LLAMA2: {
        /* <s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s> */
        const char *sys = NULL;
        for (size_t i = 0; i < n; i++) {
            const char *r = msgs[i].role;
            if (strcmp(r, "system") == 0) {
                sys = msgs[i].content;
            } else if (strcmp(r, "user") == 0) {
                sput(&o, "<s>[INST] ");
                if (sys) {
                    sput(&o, "<<SYS>>\n");
                    sput(&o, sys);
                    sput(&o, "\n<</SYS>>\n\n");
                    sys = NULL;
                }
                sput(&o, msgs[i].content);
                sput(&o, " [/INST]");
            } else {
                sput(&o, " ");
                sput(&o, msgs[i].content);
                sput(&o, " </s>");
            }
        }
        (void)add_generation_prompt; /* the prompt already ends with [/INST] */
        break;
    }
    case WICAS_CHAT_ZEPHYR:
        for (size_t i = 0; i < n; i++) {
            sput(&o, "<|");
            sput(&o, msgs[i].role);
            sput(&o, "|>\n");
            sput(&o, msgs[i].content);
            sput(&o, "</s>\n");
        }
        if (add_generation_prompt) sput(&o, "<|assistant|>\n");
        break;
    case WICAS_CHAT_GEMMA: {
        /* <start_of_turn>user\nCONTENT<end_of_turn>\n ... <start_of_turn>model\n:
         * "assistant" is "model", contents are trimmed, and Gemma has no
         * system turn: the system texts since the last user turn (trimmed,
         * joined) open the next user turn, followed by a blank line. BOS is
         * the tokenizer's to add. */
        size_t sys_from = 0; /* system messages in [sys_from, i) are pending */
        bool pending = false;
        for (size_t i = 0; i < n; i++) {
            const char *r = msgs[i].role;
            if (strcmp(r, "system") == 0) {
                for (const char *c = msgs[i].content; *c && !pending; c++)
                    pending = !(*c == ' ' || (*c >= '\t' && *c <= '\r')); /* empty after trim: none */
                continue;
            }
            bool model = strcmp(r, "assistant") == 0;
            sput(&o, "<start_of_turn>");
            sput(&o, model ? "model" : r);
            sput(&o, "\n");
            if (!model && pending) {
                for (size_t k = sys_from; k < i; k++)
                    if (strcmp(msgs[k].role, "system") == 0) sput_trim(&o, msgs[k].content);
                sput(&o, "\n\n");
                pending = false;
            }
            if (!model) sys_from = i + 1;
            sput_trim(&o, msgs[i].content);
            sput(&o, "<end_of_turn>\n");
        }
        if (add_generation_prompt) sput(&o, "<start_of_turn>model\n");
        break;
    }
    default:
        return WICAS_TOK_ETEMPLATE;
    }
    *n_out = o.n;
    return o.n > cap ? WICAS_TOK_ENOSPC : 0;
}

int wicas_tok_apply_chat(const wicas_tokenizer *t, const wicas_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char *out, size_t cap, size_t *n_out) {
    if (n_out) *n_out = 0;
    if (!t) return WICAS_TOK_EINVAL;
    if (t->chat_style == WICAS_CHAT_UNKNOWN) return WICAS_TOK_ETEMPLATE;
    return wicas_tok_apply_chat_style(t, t->chat_style, msgs, n, add_generation_prompt, out, cap, n_out);
}
