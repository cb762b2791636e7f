/* Variable-order context counts in fixed, preallocated tables
 * (improviser.music.ppm_native; the same counts as improviser.music.ppm.ContextCounts).
 *
 * The short-term model counts every note after each of its last 0..order notes and
 * takes the counts back when it forgets a note, so on the live path the Python version
 * creates and frees dicts and tuples on every note: ~40 us a note warm, more with cold
 * caches, and the heap it churns grows (fragments) over a long session. Here a context
 * is a slot of an open-addressing table (linear probing, backward-shift deletion: no
 * tombstones), its key the context's symbols packed into 64 bits; what followed it is a
 * linked list of nodes from a pool with a free list. Both are sized once for the most a
 * bounded model can hold and touched when made, so a session's memory does not grow;
 * an unbounded model doubles them when full. Loaded with ctypes; no Python API here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t key;  /* the context's symbols, oldest in the highest bits */
    int32_t total; /* symbols counted after it; 0: the slot is empty */
    int32_t types; /* distinct symbols among them */
    int32_t head;  /* its first follower node, -1: none */
    int32_t len;   /* how many symbols the context has */
} ppm_slot;

typedef struct {
    int32_t symbol;
    int32_t count;
    int32_t next;
} ppm_node;

typedef struct {
    int order, vocab, bits;
    uint64_t mask;      /* table size - 1 (a power of two) */
    ppm_slot *slots;
    int64_t used;       /* contexts held */
    ppm_node *nodes;
    int32_t n_nodes;    /* nodes made (used or free) */
    int32_t cap_nodes;
    int32_t free_node;  /* first free node, -1: none */
} ppm_counts;

static uint64_t mix(uint64_t key, int len) {
    uint64_t z = key + 0x9E3779B97F4A7C15ULL * (uint64_t)(len + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t pack(const ppm_counts *c, const int32_t *symbols, int len) {
    uint64_t key = 0;
    for (int i = 0; i < len; i++) key = (key << c->bits) | (uint64_t)symbols[i];
    return key;
}

static int grow_slots(ppm_counts *c);

/* The node pool made `cap` long (touched now). Returns 0 or -1. */
static int grow_nodes(ppm_counts *c, int32_t cap) {
    ppm_node *nodes = realloc(c->nodes, (size_t)cap * sizeof(ppm_node));
    if (!nodes) return -1;
    memset(nodes + c->cap_nodes, 0, (size_t)(cap - c->cap_nodes) * sizeof(ppm_node));
    c->nodes = nodes;
    c->cap_nodes = cap;
    return 0;
}

static int alloc_tables(ppm_counts *c, int64_t contexts, int32_t nodes) {
    uint64_t size = 16;
    while (size * 3 < (uint64_t)contexts * 4) size <<= 1; /* load factor <= 3/4 */
    c->slots = malloc(size * sizeof(ppm_slot));
    c->nodes = malloc((size_t)nodes * sizeof(ppm_node));
    if (!c->slots || !c->nodes) {
        free(c->slots);
        free(c->nodes);
        return -1;
    }
    memset(c->slots, 0, size * sizeof(ppm_slot)); /* touched now, not during a session */
    memset(c->nodes, 0, (size_t)nodes * sizeof(ppm_node));
    c->mask = size - 1;
    c->cap_nodes = nodes;
    return 0;
}

/* A table for `reserve` contexts and follower pairs (grown when more come). */
void *ppm_new(int order, int vocab, int bits, int64_t reserve) {
    ppm_counts *c = calloc(1, sizeof(ppm_counts));
    if (!c) return NULL;
    c->order = order;
    c->vocab = vocab;
    c->bits = bits;
    c->free_node = -1;
    if (reserve < 16) reserve = 16;
    if (reserve > INT32_MAX / 2) reserve = INT32_MAX / 2;
    if (alloc_tables(c, reserve, (int32_t)reserve) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

/* Room for `reserve` contexts and follower pairs without growing. Returns 0 or -1. */
int ppm_reserve(void *handle, int64_t reserve) {
    ppm_counts *c = handle;
    if (reserve > INT32_MAX / 2) reserve = INT32_MAX / 2;
    while ((uint64_t)reserve * 4 > (c->mask + 1) * 3)
        if (grow_slots(c) != 0) return -1;
    if (reserve > c->cap_nodes) return grow_nodes(c, (int32_t)reserve);
    return 0;
}

void ppm_free(void *handle) {
    ppm_counts *c = handle;
    if (!c) return;
    free(c->slots);
    free(c->nodes);
    free(c);
}

static int64_t find(const ppm_counts *c, uint64_t key, int len) {
    uint64_t i = mix(key, len) & c->mask;
    for (;;) {
        const ppm_slot *s = &c->slots[i];
        if (!s->total) return -1;
        if (s->key == key && s->len == len) return (int64_t)i;
        i = (i + 1) & c->mask;
    }
}

static int grow_slots(ppm_counts *c) {
    uint64_t old_size = c->mask + 1;
    ppm_slot *old = c->slots;
    uint64_t size = old_size * 2;
    ppm_slot *slots = malloc(size * sizeof(ppm_slot));
    if (!slots) return -1;
    memset(slots, 0, size * sizeof(ppm_slot));
    c->slots = slots;
    c->mask = size - 1;
    for (uint64_t j = 0; j < old_size; j++) {
        if (!old[j].total) continue;
        uint64_t i = mix(old[j].key, old[j].len) & c->mask;
        while (slots[i].total) i = (i + 1) & c->mask;
        slots[i] = old[j];
    }
    free(old);
    return 0;
}

/* A free node: one given back, else the next never used (ppm_add made room first). */
static int32_t new_node(ppm_counts *c) {
    if (c->free_node >= 0) {
        int32_t n = c->free_node;
        c->free_node = c->nodes[n].next;
        return n;
    }
    return c->n_nodes++;
}

/* Count `symbol` after each of the last 0..order symbols of `history` (n of them).
 * Returns 0, or -1 when out of memory (the counts are then unchanged). */
int ppm_add(void *handle, const int32_t *history, int n, int32_t symbol) {
    ppm_counts *c = handle;
    int top = n < c->order ? n : c->order;
    /* room first, so a failure changes nothing */
    if ((uint64_t)(c->used + top + 1) * 4 > (c->mask + 1) * 3 && grow_slots(c) != 0) return -1;
    int64_t spare = (int64_t)c->cap_nodes - c->n_nodes;
    for (int32_t f = c->free_node; f >= 0 && spare <= top; f = c->nodes[f].next) spare++;
    if (spare <= top && (c->cap_nodes > INT32_MAX / 2 || grow_nodes(c, c->cap_nodes * 2) != 0))
        return -1;
    for (int k = 0; k <= top; k++) {
        uint64_t key = pack(c, history + n - k, k);
        uint64_t i = mix(key, k) & c->mask;
        ppm_slot *s;
        for (;;) {
            s = &c->slots[i];
            if (!s->total) {
                s->key = key;
                s->len = k;
                s->types = 0;
                s->head = -1;
                c->used++;
                break;
            }
            if (s->key == key && s->len == k) break;
            i = (i + 1) & c->mask;
        }
        s->total++;
        int32_t f = s->head;
        while (f >= 0 && c->nodes[f].symbol != symbol) f = c->nodes[f].next;
        if (f >= 0) {
            c->nodes[f].count++;
        } else {
            f = new_node(c);
            c->nodes[f].symbol = symbol;
            c->nodes[f].count = 1;
            c->nodes[f].next = s->head;
            s->head = f;
            s->types++;
        }
    }
    return 0;
}

static void delete_slot(ppm_counts *c, uint64_t i) {
    /* backward-shift deletion: move later members of the probe run into the hole */
    uint64_t hole = i;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & c->mask;
        ppm_slot *s = &c->slots[j];
        if (!s->total) break;
        uint64_t home = mix(s->key, s->len) & c->mask;
        /* s may move to the hole if its home is not cyclically within (hole, j] */
        int stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            c->slots[hole] = *s;
            hole = j;
        }
    }
    memset(&c->slots[hole], 0, sizeof(ppm_slot));
    c->used--;
}

/* Take back one ppm_add of `symbol` after `history`. Returns 0, or -1 if it was never
 * counted (nothing is changed then). */
int ppm_remove(void *handle, const int32_t *history, int n, int32_t symbol) {
    ppm_counts *c = handle;
    int top = n < c->order ? n : c->order;
    for (int k = 0; k <= top; k++) { /* all there, or change nothing */
        int64_t i = find(c, pack(c, history + n - k, k), k);
        if (i < 0) return -1;
        int32_t f = c->slots[i].head;
        while (f >= 0 && c->nodes[f].symbol != symbol) f = c->nodes[f].next;
        if (f < 0) return -1;
    }
    for (int k = 0; k <= top; k++) {
        /* found again: deleting a context's slot may have moved this one */
        int64_t i = find(c, pack(c, history + n - k, k), k);
        if (i < 0) return -2; /* cannot happen: found above, and a deletion keeps the rest */
        ppm_slot *s = &c->slots[i];
        int32_t p = -1, f = s->head;
        while (c->nodes[f].symbol != symbol) {
            p = f;
            f = c->nodes[f].next;
        }
        if (--c->nodes[f].count == 0) {
            if (p < 0) s->head = c->nodes[f].next;
            else c->nodes[p].next = c->nodes[f].next;
            c->nodes[f].next = c->free_node;
            c->free_node = f;
            s->types--;
        }
        if (--s->total == 0) delete_slot(c, (uint64_t)i);
    }
    return 0;
}

/* The PPM-C blend of the contexts ending `history` into out[vocab] (see ppm.py).
 * Returns how many contexts were seen (0..order+1). */
int ppm_distribution(void *handle, const int32_t *history, int n, double *out) {
    ppm_counts *c = handle;
    int top = n < c->order ? n : c->order;
    int64_t at[65];
    int seen = 0;
    for (int k = 0; k <= top; k++) {
        at[k] = find(c, pack(c, history + n - k, k), k);
        if (at[k] < 0) break;
        seen++;
    }
    for (int v = 0; v < c->vocab; v++) out[v] = 0.0;
    double weight = 1.0;
    for (int k = seen - 1; k >= 0; k--) {
        const ppm_slot *s = &c->slots[at[k]];
        double denom = (double)s->total + (double)s->types;
        double scale = weight / denom;
        for (int32_t f = s->head; f >= 0; f = c->nodes[f].next)
            out[c->nodes[f].symbol] += (double)c->nodes[f].count * scale;
        weight *= (double)s->types / denom;
    }
    double floor = weight / (double)c->vocab;
    for (int v = 0; v < c->vocab; v++) out[v] += floor;
    return seen;
}

/* The contexts the table holds without growing, and the follower nodes made room for. */
void ppm_capacity(void *handle, int64_t *contexts, int64_t *nodes) {
    ppm_counts *c = handle;
    *contexts = (int64_t)((c->mask + 1) / 4 * 3);
    *nodes = c->cap_nodes;
}

/* How many contexts are held, and how many int32 a ppm_dump of them takes. */
int64_t ppm_size(void *handle, int64_t *dump_len) {
    ppm_counts *c = handle;
    int64_t len = 0;
    for (uint64_t i = 0; i <= c->mask; i++) {
        const ppm_slot *s = &c->slots[i];
        if (s->total) len += 3 + s->len + 2 * (int64_t)s->types;
    }
    *dump_len = len;
    return c->used;
}

/* Every context as int32s: len, its symbols, total, types, then (symbol, count) pairs. */
void ppm_dump(void *handle, int32_t *out) {
    ppm_counts *c = handle;
    for (uint64_t i = 0; i <= c->mask; i++) {
        const ppm_slot *s = &c->slots[i];
        if (!s->total) continue;
        *out++ = s->len;
        for (int j = s->len - 1; j >= 0; j--)
            *out++ = (int32_t)((s->key >> (j * c->bits)) & ((1ULL << c->bits) - 1));
        *out++ = s->total;
        *out++ = s->types;
        for (int32_t f = s->head; f >= 0; f = c->nodes[f].next) {
            *out++ = c->nodes[f].symbol;
            *out++ = c->nodes[f].count;
        }
    }
}

/* The short-term model's prediction in one call (music/stm.py, viewpoint bias 0): the
 * pitch viewpoint's distribution after `pitches` (n_p of them) and the interval
 * viewpoint's after `steps` (n_s), the intervals read from `last` as pitches
 * (`span` = the largest interval, symbol = interval + span) and renormalised, their
 * mean into out[pitch->vocab]. `scratch` holds interval->vocab doubles. */
void ppm_predict_pair(void *pitch, void *interval, const int32_t *pitches, int n_p,
                      const int32_t *steps, int n_s, int last, int span, double *scratch,
                      double *out) {
    ppm_counts *pc = pitch;
    ppm_distribution(pitch, pitches, n_p, out);
    ppm_distribution(interval, steps, n_s, scratch);
    const double *by_interval = scratch + span - last;
    double sum = 0.0;
    for (int v = 0; v < pc->vocab; v++) sum += by_interval[v];
    for (int v = 0; v < pc->vocab; v++) out[v] = (out[v] + by_interval[v] / sum) * 0.5;
}
