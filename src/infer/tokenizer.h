/*
 * tokenizer.h — text <-> token ids for the models the engine runs, built from
 * GGUF metadata (tokenizer.ggml.*), plus the chat template that turns a list
 * of messages into the prompt text an instruct model expects.
 *
 * Internal to src/infer (the public API is infer.h). Two vocabulary kinds:
 *
 *   WICAS_TOK_GPT2  byte-level BPE (tokenizer.ggml.model = "gpt2"; SmolLM2).
 *     Text is split by a pre-tokenizer (the GPT-2 pattern; for pre "smollm"
 *     and similar every digit is also split off on its own first; for pre
 *     "qwen2" Qwen2's pattern, see qwen2_match in tokenizer.c), each piece's
 *     bytes are mapped to printable code points (the GPT-2 byte->unicode
 *     table), and adjacent symbols are merged by merge rank, lowest first,
 *     leftmost among equal ranks. A byte whose one-character token is missing
 *     from the vocabulary is dropped (as llama.cpp and HF tokenizers do).
 *   WICAS_TOK_LLAMA SentencePiece-style BPE (tokenizer.ggml.model = "llama"):
 *     spaces become U+2581 "▁", a "▁" is prefixed to the text at the start and
 *     after every special token, the UTF-8 characters are merged greedily by
 *     vocabulary score (highest first, leftmost among ties) as long as the
 *     merged string is in the vocabulary, and characters missing from the
 *     vocabulary fall back to the <0xXX> byte tokens (else unk).
 *
 * Special tokens (token_type CONTROL = 3, USER_DEFINED = 4 or UNKNOWN = 2)
 * are recognised inside the text (leftmost, longest first): CONTROL and
 * UNKNOWN tokens only when parse_special is true (otherwise their text is
 * tokenized like any other text), USER_DEFINED ones always (Gemma 3's runs of
 * newlines, spaces and tabs, its HTML tags), as llama.cpp and HF tokenizers do.
 *
 * Everything is deterministic: hash tables are used only for lookups, never
 * iterated to produce output; ties are broken by position or id.
 *
 * Error convention: functions return 0 on success or a negative
 * WICAS_TOK_E* code; wicas_tok_strerror names it.
 */
#ifndef WICAS_INFER_TOKENIZER_H
#define WICAS_INFER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- error codes ------------------------------------------------------------ */
#define WICAS_TOK_OK 0
#define WICAS_TOK_EINVAL (-1) /* bad argument or malformed configuration */
#define WICAS_TOK_ENOMEM (-2) /* allocation failed */
#define WICAS_TOK_ENOSPC (-3) /* output buffer too small (*n_out = size needed) */
#define WICAS_TOK_ERANGE (-4) /* token id out of range */
#define WICAS_TOK_EUTF8                                                                                      \
    (-5)                         /* (unused by encode: invalid UTF-8 is encoded                              \
                                    byte-wise, never rejected) */
#define WICAS_TOK_ENOTOKEN (-6)  /* a piece of text has no token and no unk/byte fallback */
#define WICAS_TOK_ETEMPLATE (-7) /* chat template not recognised / bad message */

/* Static string naming an error code ("unknown error" for others). */
const char *wicas_tok_strerror(int err);

/* The class of an error code, as infer.h defines them (WICAS_ERRCLASS_*):
 * ENOMEM is NODE (this node's memory), every other error is REQUEST (a
 * function of the text and the model's bytes), 0 is NONE. A malformed
 * configuration is found when the model loads, where the engine reports it
 * as a model-file error (EFORMAT, NODE). */
int wicas_tok_err_class(int err);

/* ---- configuration (borrowed views into GGUF metadata) -------------------------- */
typedef struct wicas_tokenizer wicas_tokenizer;

/* tokenizer.ggml.model "gpt2" / "llama" */
typedef enum { WICAS_TOK_GPT2, WICAS_TOK_LLAMA } wicas_tok_kind;

/* GGUF strings are not NUL-terminated. */
typedef struct {
    const char *ptr;
    uint32_t len;
} wicas_tok_str;

/* GGUF token types (tokenizer.ggml.token_type). */
enum {
    WICAS_TOKTYPE_UNDEFINED = 0,
    WICAS_TOKTYPE_NORMAL = 1,
    WICAS_TOKTYPE_UNKNOWN = 2,
    WICAS_TOKTYPE_CONTROL = 3,
    WICAS_TOKTYPE_USER_DEFINED = 4,
    WICAS_TOKTYPE_UNUSED = 5,
    WICAS_TOKTYPE_BYTE = 6
};

typedef struct {
    wicas_tok_kind kind;
    wicas_tok_str pre;           /* tokenizer.ggml.pre (may be empty) */
    uint32_t n_vocab;            /* number of tokens, >= 1 */
    const wicas_tok_str *tokens; /* tokenizer.ggml.tokens[n_vocab] */
    const float *scores;         /* tokenizer.ggml.scores[n_vocab] or NULL (llama: all 0) */
    const int32_t *token_types;  /* tokenizer.ggml.token_type[n_vocab] or NULL (all NORMAL) */
    uint32_t n_merges;           /* tokenizer.ggml.merges (0 for llama) */
    const wicas_tok_str *merges; /* "left right", ranked by index */
    int32_t bos_id, eos_id, unk_id, pad_id, eot_id; /* -1 if absent */
    bool add_bos, add_eos;                          /* tokenizer.ggml.add_bos_token / add_eos_token */
    wicas_tok_str chat_template;                    /* tokenizer.chat_template (may be empty) */
    /* Added after the first version; zero keeps the default. Set it when the
     * GGUF says tokenizer.ggml.add_space_prefix = false (llama kind only: no
     * "▁" is prefixed at the start / after special tokens). */
    bool no_space_prefix;
} wicas_tok_config;

/* ---- lifecycle ---------------------------------------------------------------------
 * Builds a tokenizer. Everything needed is copied: cfg and the arrays it points
 * to may be freed (or the GGUF unmapped) afterwards. Checks: cfg/out non-NULL,
 * n_vocab >= 1, tokens non-NULL, every special id either -1 or < n_vocab,
 * kind known, merges non-NULL when n_merges > 0, and for the gpt2 kind a
 * supported "pre": empty, gpt2/mpt/olmo/jais (GPT-2 pattern),
 * smollm/starcoder/refact/command-r/codeshell/exaone/minerva-7b (digits split
 * first) or qwen2/deepseek-r1-qwen (Qwen2's pattern); others (llama-bpe,
 * deepseek-llm, ...) are refused with WICAS_TOK_EINVAL, naming the pre.
 * Merges whose parts or result are not in the vocabulary are ignored (they
 * could never apply).
 * Returns 0 and *out, or a negative code with a message in err (if err is
 * non-NULL, at most errlen bytes, NUL-terminated) and *out = NULL. */
int wicas_tok_new(const wicas_tok_config *cfg, wicas_tokenizer **out, char *err, size_t errlen);

/* Frees t (NULL is a no-op). */
void wicas_tok_free(wicas_tokenizer *t);

/* Number of tokens in the vocabulary. */
uint32_t wicas_tok_n_vocab(const wicas_tokenizer *t);

/* Special ids as configured (-1 if absent). */
int32_t wicas_tok_bos(const wicas_tokenizer *t);
int32_t wicas_tok_eos(const wicas_tokenizer *t);

/* Whether the model wants BOS prepended by default (cfg->add_bos). */
bool wicas_tok_add_bos_default(const wicas_tokenizer *t);

/* ---- encode / decode -----------------------------------------------------------------
 * Encodes text[0..len) (any bytes; invalid UTF-8 is carried byte by byte) into
 * token ids. add_bos: prepend bos_id (ignored if there is none); add_eos is
 * honoured from the config (cfg->add_eos). parse_special: recognise special
 * token texts such as "<|im_start|>" (see above). The ids are written to
 * out[0..cap); *n_out receives the total count. If cap is too small, returns
 * WICAS_TOK_ENOSPC with *n_out = the number needed (call again with a bigger
 * buffer; out may be NULL when cap is 0). text may be NULL when len is 0. */
int wicas_tok_encode(const wicas_tokenizer *t, const char *text, size_t len, bool add_bos, bool parse_special,
                     int32_t *out, size_t cap, size_t *n_out);

/* How many times wicas_tok_encode has run in this process (all threads, all
 * tokenizers). For tests that check a request is tokenised once; it never
 * feeds a result. */
uint64_t wicas_tok_encode_calls(void);

/* Raw bytes of token id (byte-level / "▁" / <0xXX> decoding done). Special
 * (CONTROL / USER_DEFINED) tokens give their literal text, e.g. "<|im_end|>".
 * Writes at most cap bytes to buf (no NUL) and *n = the piece's length;
 * WICAS_TOK_ENOSPC (with *n = length needed) if cap is too small,
 * WICAS_TOK_ERANGE for an id outside [0, n_vocab). Concatenating the pieces of
 * encode(text) gives text back (for the llama kind, minus the leading space
 * the encoder added). */
int wicas_tok_piece(const wicas_tokenizer *t, int32_t id, char *buf, size_t cap, size_t *n);

/* Whether id ends generation: eos_id, eot_id, or a CONTROL token whose text is
 * one of the known end markers ("<|im_end|>", "<|endoftext|>", "<|eot_id|>",
 * "</s>", "<end_of_turn>"). False for out-of-range ids. */
bool wicas_tok_is_eog(const wicas_tokenizer *t, int32_t id);

/* ---- chat template --------------------------------------------------------------------
 * Formats messages as prompt text. The template style is detected from
 * cfg->chat_template:
 *   contains "<|im_start|>"           -> ChatML:
 *       "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per message; if the first
 *       message is not "system" and the template carries a default system
 *       prompt (SmolLM2: "You are a helpful AI assistant named SmolLM, trained
 *       by Hugging Face"), that system message is inserted first; with
 *       add_generation_prompt, "<|im_start|>assistant\n" is appended.
 *   contains "[INST]"                 -> Llama-2: "<s>[INST] <<SYS>>\nSYS\n<</SYS>>\n\nUSER [/INST] ASSISTANT
 * </s>..." contains "<|user|>"               -> Zephyr: "<|ROLE|>\nCONTENT</s>\n", then "<|assistant|>\n"
 *   contains "<start_of_turn>"        -> Gemma:
 *       "<start_of_turn>ROLE\nCONTENT<end_of_turn>\n" per message with
 *       "assistant" written "model" and CONTENT trimmed of ASCII white space;
 *       system messages (trimmed, concatenated) are not turns of their
 *       own but open the next user turn, followed by "\n\n"; with
 *       add_generation_prompt, "<start_of_turn>model\n" is appended.
 *   empty, and the vocabulary has the CONTROL tokens "<start_of_turn>" and
 *       "<end_of_turn>" -> Gemma (Gemma GGUFs without a template); or
 *       "<|im_start|>" and "<|im_end|>" -> ChatML
 *   otherwise                         -> WICAS_TOK_ETEMPLATE (callers may
 *       then use wicas_tok_apply_chat_style with an explicit style).
 * Roles must be "system", "user" or "assistant"; contents non-NULL.
 * Output as for wicas_tok_piece: at most cap bytes (no NUL), *n_out = full
 * length, WICAS_TOK_ENOSPC if cap is too small. */
typedef struct {
    const char *role;
    const char *content;
} wicas_chat_msg;

int wicas_tok_apply_chat(const wicas_tokenizer *t, const wicas_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char *out, size_t cap, size_t *n_out);

typedef enum {
    WICAS_CHAT_UNKNOWN = 0,
    WICAS_CHAT_CHATML = 1,
    WICAS_CHAT_LLAMA2 = 2,
    WICAS_CHAT_ZEPHYR = 3,
    WICAS_CHAT_GEMMA = 4
} wicas_chat_style;

/* The style detected from the model's template (WICAS_CHAT_UNKNOWN if none). */
wicas_chat_style wicas_tok_chat_style(const wicas_tokenizer *t);

/* Like wicas_tok_apply_chat but with an explicit style (no default system
 * prompt is inserted unless the model's own template carries one). */
int wicas_tok_apply_chat_style(const wicas_tokenizer *t, wicas_chat_style style, const wicas_chat_msg *msgs,
                               size_t n, bool add_generation_prompt, char *out, size_t cap, size_t *n_out);

#ifdef __cplusplus
}
#endif
#endif /* WICAS_INFER_TOKENIZER_H */
