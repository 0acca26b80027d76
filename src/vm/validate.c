/*
 * validate.c — static checks on contract code before it is accepted.
 *
 * Two passes. The first walks the raw binary (magic, version, section framing)
 * and counts what cosmwasm-vm limits: functions, globals, exports, imports,
 * tables and their sizes, parameters per function type, and the absence of a
 * start section — all before wasmtime sees the bytes, so that a module that
 * would be expensive to compile is refused early. The second looks at the
 * compiled module's import and export types through the wasmtime C API: every
 * import must be a function of module "env" from the host interface with the
 * exact signature, and the exports must be the CosmWasm entry points with the
 * signatures the VM will call. A third check, at upload only, compares the
 * requires_<capability> markers cosmwasm-std exports with what the chain
 * offers (wasmd refuses such code at upload rather than failing later).
 */
#include <stdio.h>
#include <string.h>

#include "vm_internal.h"

/* ---- a bounded byte reader ---------------------------------------------------------- */
typedef struct {
    const uint8_t *p, *end;
    bool bad;
} reader;

static uint8_t rd_byte(reader *r) {
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

/* Unsigned LEB128, at most 5 bytes for a u32. */
static uint32_t rd_u32(reader *r) {
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        uint8_t b = rd_byte(r);
        if (r->bad) return 0;
        if (shift == 28 && (b & 0x70)) {
            r->bad = true;
            return 0;
        }
        v |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) return v;
    }
    r->bad = true;
    return 0;
}

/* A value type: one byte, except (ref null? ht) which is followed by a heap type (s33 LEB). */
static void rd_valtype(reader *r) {
    uint8_t t = rd_byte(r);
    if (t == 0x63 || t == 0x64) {
        for (int i = 0; i < 5; i++)
            if (!(rd_byte(r) & 0x80)) return;
        r->bad = true;
    }
}

#define FAIL(...)                                                                                            \
    do {                                                                                                     \
        if (err) snprintf(err, errcap, __VA_ARGS__);                                                         \
        return -1;                                                                                           \
    } while (0)

int wicas_vm_validate_sections(const uint8_t *wasm, size_t len, char *err, size_t errcap) {
    static const uint8_t magic[8] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
    if (len < 8 || memcmp(wasm, magic, 8) != 0) FAIL("not a wasm module (bad magic or version 1 header)");
    reader r = {wasm + 8, wasm + len, false};
    uint32_t n_funcs = 0;
    while (r.p < r.end) {
        uint8_t id = rd_byte(&r);
        uint32_t size = rd_u32(&r);
        if (r.bad || size > (size_t)(r.end - r.p))
            FAIL("malformed section framing at byte %zu", (size_t)(r.p - wasm));
        reader s = {r.p, r.p + size, false};
        r.p += size;
        switch (id) {
        case 1: { /* type section: parameter counts */
            uint32_t n = rd_u32(&s);
            for (uint32_t i = 0; i < n && !s.bad; i++) {
                if (rd_byte(&s) != 0x60) FAIL("type section: entry %u is not a function type", i);
                uint32_t np = rd_u32(&s);
                if (np > WICAS_VM_MAX_FUNCTION_PARAMS)
                    FAIL("type section: function type %u has %u parameters (limit %u)", i, np,
                         WICAS_VM_MAX_FUNCTION_PARAMS);
                for (uint32_t k = 0; k < np && !s.bad; k++)
                    rd_valtype(&s);
                uint32_t nr = rd_u32(&s);
                if (nr > WICAS_VM_MAX_FUNCTION_PARAMS)
                    FAIL("type section: function type %u has %u results", i, nr);
                for (uint32_t k = 0; k < nr && !s.bad; k++)
                    rd_valtype(&s);
            }
            break;
        }
        case 2: { /* imports: count, and count the imported functions */
            uint32_t n = rd_u32(&s);
            if (n > WICAS_VM_MAX_IMPORTS) FAIL("module has %u imports (limit %u)", n, WICAS_VM_MAX_IMPORTS);
            for (uint32_t i = 0; i < n && !s.bad; i++) {
                uint32_t ml = rd_u32(&s);
                if (ml > (size_t)(s.end - s.p))
                    s.bad = true;
                else
                    s.p += ml;
                uint32_t nl = rd_u32(&s);
                if (nl > (size_t)(s.end - s.p))
                    s.bad = true;
                else
                    s.p += nl;
                uint8_t kind = rd_byte(&s);
                if (kind != 0x00)
                    FAIL("import %u is not a function (only host functions may be imported)", i);
                rd_u32(&s); /* type index */
            }
            break;
        }
        case 3:
            n_funcs = rd_u32(&s);
            if (n_funcs > WICAS_VM_MAX_FUNCTIONS)
                FAIL("module defines %u functions (limit %u)", n_funcs, WICAS_VM_MAX_FUNCTIONS);
            break;
        case 4: { /* tables: at most one, bounded */
            uint32_t n = rd_u32(&s);
            if (n > 1) FAIL("module defines %u tables (limit 1)", n);
            for (uint32_t i = 0; i < n && !s.bad; i++) {
                rd_valtype(&s);
                uint8_t flags = rd_byte(&s);
                uint32_t min = rd_u32(&s);
                if (min > WICAS_VM_MAX_TABLE_ELEMENTS)
                    FAIL("table has %u initial elements (limit %u)", min, WICAS_VM_MAX_TABLE_ELEMENTS);
                if (flags & 1) {
                    uint32_t max = rd_u32(&s);
                    (void)max; /* growth is bounded at run time by the store limiter */
                }
            }
            break;
        }
        case 5: {
            uint32_t n = rd_u32(&s);
            if (n != 1) FAIL("module defines %u memories (exactly 1 required)", n);
            break;
        }
        case 6: {
            uint32_t n = rd_u32(&s);
            if (n > WICAS_VM_MAX_GLOBALS)
                FAIL("module defines %u globals (limit %u)", n, WICAS_VM_MAX_GLOBALS);
            break;
        }
        case 7: {
            uint32_t n = rd_u32(&s);
            if (n > WICAS_VM_MAX_EXPORTS) FAIL("module has %u exports (limit %u)", n, WICAS_VM_MAX_EXPORTS);
            break;
        }
        case 8:
            FAIL("module has a start function (not allowed: it would run outside any entry point)");
        default:
            break;
        }
        if (s.bad) FAIL("malformed section %u", id);
    }
    if (r.bad) FAIL("malformed module");
    return 0;
}

/* ---- interface checks on the compiled module ------------------------------------------ */

static bool name_is(const wasm_name_t *n, const char *s) {
    size_t l = strlen(s);
    return n->size == l && memcmp(n->data, s, l) == 0;
}

/* true when f has n_params i32 params and result kind res (0 none, 1 i32, 2 i64). */
static bool sig_is(const wasm_functype_t *f, size_t n_params, int res) {
    const wasm_valtype_vec_t *p = wasm_functype_params(f), *r = wasm_functype_results(f);
    if (p->size != n_params) return false;
    for (size_t i = 0; i < p->size; i++)
        if (wasm_valtype_kind(p->data[i]) != WASM_I32) return false;
    if (res == 0) return r->size == 0;
    if (r->size != 1) return false;
    return wasm_valtype_kind(r->data[0]) == (res == 1 ? WASM_I32 : WASM_I64);
}

/* The required exports are cosmwasm-vm's (allocate, deallocate and the
 * interface version marker): instantiate is optional at upload there too.
 * alt_params: a second accepted parameter count (migrate with MigrateInfo). */
static const struct {
    const char *name;
    uint8_t n_params, alt_params, result;
    bool required;
} EXPORTS[] = {
    {"allocate", 1, 1, 1, true},     {"deallocate", 1, 1, 0, true}, {"interface_version_8", 0, 0, 0, true},
    {"instantiate", 3, 3, 1, false}, {"execute", 3, 3, 1, false},   {"query", 2, 2, 1, false},
    {"migrate", 2, 3, 1, false},     {"sudo", 2, 2, 1, false},      {"reply", 2, 2, 1, false},
};
#define N_EXPORTS (sizeof EXPORTS / sizeof EXPORTS[0])

/* true when the comma-separated list csv holds the item name[0..len) (items trimmed of spaces). */
static bool csv_has(const char *csv, const char *name, size_t len) {
    const char *p = csv;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *q = p;
        while (*q && *q != ',')
            q++;
        const char *e = q;
        while (e > p && e[-1] == ' ')
            e--;
        if ((size_t)(e - p) == len && len && memcmp(p, name, len) == 0) return true;
        p = q;
    }
    return false;
}

int wicas_vm_validate_capabilities(const wasmtime_module_t *module, const char *caps, char *err,
                                   size_t errcap) {
    static const char pre[] = "requires_";
    const size_t pl = sizeof pre - 1;
    wasm_exporttype_vec_t exps;
    wasmtime_module_exports(module, &exps);
    char missing[200] = "";
    size_t ml = 0;
    int n_missing = 0;
    for (size_t i = 0; i < exps.size; i++) {
        const wasm_name_t *nm = wasm_exporttype_name(exps.data[i]);
        if (nm->size <= pl || memcmp(nm->data, pre, pl) != 0) continue;
        const char *cap = nm->data + pl;
        size_t cl = nm->size - pl;
        if (csv_has(caps, cap, cl)) continue;
        n_missing++;
        if (ml < sizeof missing - 1) {
            int w = snprintf(missing + ml, sizeof missing - ml, "%s%.*s", ml ? ", " : "", (int)cl, cap);
            if (w > 0) ml += (size_t)w < sizeof missing - ml ? (size_t)w : sizeof missing - 1 - ml;
        }
    }
    wasm_exporttype_vec_delete(&exps);
    if (!n_missing) return 0;
    if (err)
        snprintf(err, errcap, "contract requires unavailable capabilities: %s (this chain offers: %s)",
                 missing, caps);
    return -1;
}

int wicas_vm_validate_interface(const wasmtime_module_t *module, char *err, size_t errcap) {
    int rc = -1;
    wasm_importtype_vec_t imps;
    wasm_exporttype_vec_t exps;
    wasmtime_module_imports(module, &imps);
    wasmtime_module_exports(module, &exps);
    bool seen[N_EXPORTS] = {0};
    bool memory = false;

    for (size_t i = 0; i < imps.size; i++) {
        const wasm_name_t *mod = wasm_importtype_module(imps.data[i]);
        const wasm_name_t *nm = wasm_importtype_name(imps.data[i]);
        const wasm_externtype_t *et = wasm_importtype_type(imps.data[i]);
        if (!name_is(mod, "env")) {
            if (err)
                snprintf(err, errcap,
                         "forbidden import %.*s.%.*s: only module \"env\" may be imported (no WASI)",
                         (int)mod->size, mod->data, (int)nm->size, nm->data);
            goto out;
        }
        if (wasm_externtype_kind(et) != WASM_EXTERN_FUNC) {
            if (err) snprintf(err, errcap, "import env.%.*s is not a function", (int)nm->size, nm->data);
            goto out;
        }
        const wicas_vm_hostfn *h = NULL;
        for (size_t k = 0; k < wicas_vm_n_hostfns; k++)
            if (name_is(nm, wicas_vm_hostfns[k].name)) h = &wicas_vm_hostfns[k];
        if (!h) {
            if (err)
                snprintf(err, errcap, "forbidden import env.%.*s: not part of the CosmWasm host interface",
                         (int)nm->size, nm->data);
            goto out;
        }
        if (!sig_is(wasm_externtype_as_functype_const(et), h->n_params, h->result)) {
            if (err) snprintf(err, errcap, "import env.%s has the wrong signature", h->name);
            goto out;
        }
    }

    for (size_t i = 0; i < exps.size; i++) {
        const wasm_name_t *nm = wasm_exporttype_name(exps.data[i]);
        const wasm_externtype_t *et = wasm_exporttype_type(exps.data[i]);
        if (name_is(nm, "memory")) {
            if (wasm_externtype_kind(et) != WASM_EXTERN_MEMORY) {
                if (err) snprintf(err, errcap, "export \"memory\" is not a memory");
                goto out;
            }
            memory = true;
            continue;
        }
        size_t k = 0;
        for (; k < N_EXPORTS; k++)
            if (name_is(nm, EXPORTS[k].name)) break;
        /* Anything else (IBC entry points, requires_* capability markers, linker
         * symbols such as __data_end) is ignored: the VM never calls it. */
        if (k == N_EXPORTS) continue;
        if (wasm_externtype_kind(et) != WASM_EXTERN_FUNC ||
            (!sig_is(wasm_externtype_as_functype_const(et), EXPORTS[k].n_params, EXPORTS[k].result) &&
             !sig_is(wasm_externtype_as_functype_const(et), EXPORTS[k].alt_params, EXPORTS[k].result))) {
            if (err) snprintf(err, errcap, "export %s has the wrong type or signature", EXPORTS[k].name);
            goto out;
        }
        seen[k] = true;
    }
    if (!memory) {
        if (err) snprintf(err, errcap, "missing export \"memory\" (the contract's linear memory)");
        goto out;
    }
    for (size_t k = 0; k < N_EXPORTS; k++)
        if (EXPORTS[k].required && !seen[k]) {
            if (err) snprintf(err, errcap, "missing required export %s", EXPORTS[k].name);
            goto out;
        }
    rc = 0;
out:
    wasm_importtype_vec_delete(&imps);
    wasm_exporttype_vec_delete(&exps);
    return rc;
}
