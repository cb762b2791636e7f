/* The streaming LSTM and GRU steps of improviser.inference.native_engine, compiled.
 *
 * The same arithmetic as NumpyEngine (tabulated layer-0 input side, stacked deeper
 * kernels, i/f/o gate columns pre-halved so one tanh serves sigmoids and candidate,
 * padded heads, float32 softmax written as float64) on the NumpyEngine's own arrays, in
 * one call instead of some forty NumPy calls. Any model with up to IMP_MAX_INPUTS
 * embedded inputs and IMP_MAX_HEADS softmax heads (the melody model: 4 and 4; the
 * harmony model: 4 and 1). Loaded with ctypes; no Python API here.
 */
#include <math.h>
#include <stddef.h>

#define IMP_MAX_LAYERS 8
#define IMP_MAX_INPUTS 8
#define IMP_MAX_HEADS 8
#define IMP_FIELDS 4 /* the melody model's token fields: the rows a note is drawn from */

typedef struct {
    int layers;
    int width;                       /* columns per head in the padded logits */
    int n_inputs;                    /* embedded inputs: classes per token */
    int n_heads;                     /* softmax heads: rows of the logits */
    int units[IMP_MAX_LAYERS];
    int vocab[IMP_MAX_INPUTS];       /* classes of each input */
    int sizes[IMP_MAX_HEADS];        /* classes of each head (the rest of its row is pad) */
    const float *tables[IMP_MAX_INPUTS]; /* (vocab[f], 4 * units[0]) */
    const float *rec0;               /* (units[0], 4 * units[0]) */
    float *pre0;                     /* h0 @ rec0, done ahead by imp_prepare */
    const float *stacked[IMP_MAX_LAYERS]; /* l >= 1: (units[l-1] + units[l] + 1, 4 * units[l]) */
    float *inputs[IMP_MAX_LAYERS];   /* l >= 1: [h_{l-1}; h_l; 1] */
    float *h[IMP_MAX_LAYERS];
    float *c[IMP_MAX_LAYERS];
    float *z[IMP_MAX_LAYERS];
    const float *head;               /* (units[last] + 1, n_heads * width) */
    const float *top;                /* [h_last; 1] */
    float *logits;                   /* n_heads * width */
    double *probs;                   /* n_heads * width */
} imp_net;

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define IMP_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define IMP_CLONES
#endif

/* z = x @ w (w row-major, n rows of m): rows outer, so the inner loop runs along a row. */
IMP_CLONES static void matvec(const float *restrict x, int n, const float *restrict w, int m,
                              float *restrict z) {
    for (int j = 0; j < m; j++) z[j] = 0.0f;
    for (int i = 0; i < n; i++) {
        const float xi = x[i];
        const float *restrict row = w + (size_t)i * (size_t)m;
        for (int j = 0; j < m; j++) z[j] += xi * row[j];
    }
}

/* tanh as a rational function (minimax on [-7.9, 7.9], clamped outside: at most 4e-7
 * from the true value, well inside float32 training noise); branch-free, so the loops that
 * use it vectorize, where libm's tanhf is a call per element (most of a step's time). */
static inline float fast_tanh(float x) {
    const float clamp = 7.90531110763549805f;
    x = x > clamp ? clamp : (x < -clamp ? -clamp : x);
    const float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    p = x * p;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    return p / q;
}

IMP_CLONES static void cell(const imp_net *net, int layer, float *restrict z) {
    const int u = net->units[layer];
    float *restrict c = net->c[layer];
    float *restrict h = net->h[layer];
    for (int j = 0; j < 4 * u; j++) z[j] = fast_tanh(z[j]); /* i, f, o: 2·sigmoid - 1 */
    for (int j = 0; j < u; j++) {
        const float i = 0.5f * z[j] + 0.5f;
        const float f = 0.5f * z[u + j] + 0.5f;
        c[j] = c[j] * f + i * z[2 * u + j];
    }
    for (int j = 0; j < u; j++) h[j] = fast_tanh(c[j]) * (0.5f * z[3 * u + j] + 0.5f);
}

/* float32 softmax of each head's row of logits (exp in place: logits are scratch), written
 * as float64; the pad columns of each row are zeros. */
static void softmax(int heads, int width, const int *sizes, float *logits, double *probs) {
    for (int f = 0; f < heads; f++) {
        float *restrict e = logits + f * width;
        double *restrict p = probs + f * width;
        const int n = sizes[f];
        float top = e[0];
        for (int j = 1; j < n; j++) top = e[j] > top ? e[j] : top;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            e[j] = expf(e[j] - top);
            sum += e[j];
        }
        const double total = (double)sum;
        for (int j = 0; j < n; j++) p[j] = (double)e[j] / total;
        for (int j = n; j < width; j++) p[j] = 0.0;
    }
}

/* Layer 0's recurrent product for the next step (see NumpyEngine.prepare). */
void imp_prepare(const imp_net *net) {
    const int u0 = net->units[0];
    matvec(net->h[0], u0, net->rec0, 4 * u0, net->pre0);
}

/* One step on token (one class per input: the melody's pitch, ioi, duration, velocity);
 * softmax into net->probs when with_probs. `prepared`: net->pre0 holds this state's
 * layer-0 product. Returns 0, or -1 (nothing changed) when a class is out of range. */
int imp_step(const imp_net *net, const int *token, int prepared, int with_probs) {
    const int inputs = net->n_inputs;
    for (int f = 0; f < inputs; f++)
        if (token[f] < 0 || token[f] >= net->vocab[f]) return -1;
    const int u0 = net->units[0];
    const int g0 = 4 * u0;
    float *restrict z = net->z[0];
    if (prepared) {
        for (int j = 0; j < g0; j++) z[j] = net->pre0[j];
    } else {
        matvec(net->h[0], u0, net->rec0, g0, z);
    }
    for (int f = 0; f < inputs; f++) {
        const float *restrict row = net->tables[f] + (size_t)token[f] * (size_t)g0;
        for (int j = 0; j < g0; j++) z[j] += row[j];
    }
    cell(net, 0, z);
    for (int l = 1; l < net->layers; l++) {
        const int u = net->units[l];
        matvec(net->inputs[l], net->units[l - 1] + u + 1, net->stacked[l], 4 * u, net->z[l]);
        cell(net, l, net->z[l]);
        if (l < net->layers - 1) {
            for (int j = 0; j < u; j++) net->inputs[l + 1][j] = net->h[l][j];
        }
    }
    const int last = net->units[net->layers - 1];
    matvec(net->top, last + 1, net->head, net->n_heads * net->width, net->logits);
    if (with_probs) softmax(net->n_heads, net->width, net->sizes, net->logits, net->probs);
    return 0;
}

/* ---- The GRU stack (see gru_layers.py): [h; 1] buffers, z and r columns pre-halved ---- */

typedef struct {
    int layers;
    int width;
    int n_inputs;
    int n_heads;
    int units[IMP_MAX_LAYERS];
    int vocab[IMP_MAX_INPUTS];
    int sizes[IMP_MAX_HEADS];
    const float *tables[IMP_MAX_INPUTS]; /* (vocab[f], 3 * units[0]), input bias folded in */
    const float *rec[IMP_MAX_LAYERS];    /* (units[l] + 1, 3 * units[l]): [recurrent; bias[1]] */
    const float *below[IMP_MAX_LAYERS];  /* l >= 1: (units[l-1] + 1, 3 * units[l]) */
    float *states[IMP_MAX_LAYERS];       /* [h_l; 1] */
    float *x[IMP_MAX_LAYERS];            /* input side, 3 * units[l] */
    float *r[IMP_MAX_LAYERS];            /* recurrent side, 3 * units[l] */
    float *pre0;                         /* layer 0's recurrent side, done ahead */
    const float *head;                   /* (units[last] + 1, n_heads * width) */
    float *logits;
    double *probs;
} imp_gru;

IMP_CLONES static void gru_cell(int u, float *restrict x, const float *restrict r,
                                float *restrict h) {
    for (int j = 0; j < 2 * u; j++) x[j] = fast_tanh(x[j] + r[j]); /* 2·sigmoid - 1 */
    for (int j = 0; j < u; j++) {
        const float z = 0.5f * x[j] + 0.5f;
        const float reset = 0.5f * x[u + j] + 0.5f;
        const float hh = fast_tanh(x[2 * u + j] + reset * r[2 * u + j]);
        h[j] = hh + z * (h[j] - hh);
    }
}

void imp_gru_prepare(const imp_gru *net) {
    const int u0 = net->units[0];
    matvec(net->states[0], u0 + 1, net->rec[0], 3 * u0, net->pre0);
}

/* As imp_step, for a GRU stack. */
int imp_gru_step(const imp_gru *net, const int *token, int prepared, int with_probs) {
    const int inputs = net->n_inputs;
    for (int f = 0; f < inputs; f++)
        if (token[f] < 0 || token[f] >= net->vocab[f]) return -1;
    const int u0 = net->units[0];
    const int g0 = 3 * u0;
    if (prepared) {
        for (int j = 0; j < g0; j++) net->r[0][j] = net->pre0[j];
    } else {
        matvec(net->states[0], u0 + 1, net->rec[0], g0, net->r[0]);
    }
    float *restrict x = net->x[0];
    for (int j = 0; j < g0; j++) x[j] = 0.0f;
    for (int f = 0; f < inputs; f++) {
        const float *restrict row = net->tables[f] + (size_t)token[f] * (size_t)g0;
        for (int j = 0; j < g0; j++) x[j] += row[j];
    }
    gru_cell(u0, x, net->r[0], net->states[0]);
    for (int l = 1; l < net->layers; l++) {
        const int u = net->units[l];
        matvec(net->states[l - 1], net->units[l - 1] + 1, net->below[l], 3 * u, net->x[l]);
        matvec(net->states[l], u + 1, net->rec[l], 3 * u, net->r[l]);
        gru_cell(u, net->x[l], net->r[l], net->states[l]);
    }
    const int last = net->units[net->layers - 1];
    matvec(net->states[net->layers - 1], last + 1, net->head, net->n_heads * net->width,
           net->logits);
    if (with_probs) softmax(net->n_heads, net->width, net->sizes, net->logits, net->probs);
    return 0;
}

/* ---- Drawing a note: the listener's reshaping and the sampler, compiled ----------------
 *
 * The arithmetic of Listener.shape (register, short-term blend, key, register) and of
 * Sampler.sample_padded (temperature, allowed classes, top-k/top-p, inverse CDF), in two
 * calls: imp_shape prepares the four rows and says whether the fast path applies (the
 * sampler's generator is drawn only then, as Sampler does), imp_pick draws with the four
 * uniforms. Sums run in the same order as NumPy's where the order decides a draw (the
 * sorted cumulative sums); elsewhere results agree to rounding.
 */

typedef struct {
    int width;                 /* columns per row */
    int sizes[IMP_FIELDS];     /* classes of each field */
    int pitches;               /* classes of row 0 the listener reshapes (its vocabulary) */
    /* listener */
    int reg;                   /* keep the register: fold around center into [lo, hi] */
    double center;
    int lo, hi, slack;
    const double *stm;         /* the short-term model's prediction, or NULL */
    double stm_weight, stm_bias;
    const double *key;         /* per-pitch key weights, or NULL */
    /* sampler */
    double temperature;
    const unsigned char *allowed; /* IMP_FIELDS * width */
    int keep[IMP_FIELDS];
    int cut[IMP_FIELDS];
    double top_p;
    double *p;                 /* IMP_FIELDS * width scratch: the rows drawn from */
    double totals[IMP_FIELDS];
} imp_draw;

static int floor_div(int a, int b) { /* Python's // for b > 0 */
    int q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* NumPy's pairwise sum (what ndarray.sum adds in), so totals match it bit for bit. */
static double pairwise_sum(const double *a, int n) {
    if (n < 8) {
        double res = 0.0;
        for (int i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int k = 0; k < 8; k++) r[k] = a[k];
        int i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int k = 0; k < 8; k++) r[k] += a[i + k];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    int half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

/* register.fold: probability moved by `shift` octaves, then by octaves into [lo, hi]. */
static void fold(const double *restrict in, double *restrict out, int n, int lo, int hi,
                 int shift) {
    for (int i = 0; i < n; i++) out[i] = 0.0;
    for (int i = 0; i < n; i++) {
        int pitch = i + 12 * shift;
        int up = pitch < lo ? -floor_div(pitch - lo, 12) : 0;
        int down = floor_div(pitch - hi + 11, 12);
        down = down > 0 ? down : 0;
        out[pitch + 12 * (up - down)] += in[i];
    }
}

/* register.octave_shift */
static int octave_shift(const double *p, int n, double center, int slack) {
    double mean = 0.0, total = 0.0;
    for (int i = 0; i < n; i++) {
        mean += p[i] * (double)i;
        total += p[i];
    }
    const double distance = center - mean / total;
    const int octaves = (int)floor((fabs(distance) + slack) / 12.0);
    return distance >= 0 ? octaves : -octaves;
}

/* Listener._blend: entropy-weighted arithmetic mean of the LSTM's and the short-term
 * model's pitch predictions. */
static void blend(double *restrict p, const imp_draw *d, int n) {
    double w_lstm = 1.0, w_stm = d->stm_weight;
    if (d->stm_bias > 0) {
        const double scale = -1.0 / log((double)n);
        double hl = 0.0, hs = 0.0;
        for (int i = 0; i < n; i++) {
            hl += p[i] * log(p[i] > 1e-300 ? p[i] : 1e-300);
            hs += d->stm[i] * log(d->stm[i]);
        }
        hl = scale * hl > 1e-6 ? scale * hl : 1e-6;
        hs = scale * hs > 1e-6 ? scale * hs : 1e-6;
        w_lstm = pow(hl, -d->stm_bias);
        w_stm = d->stm_weight * pow(hs, -d->stm_bias);
    }
    const double norm = 1.0 / (w_lstm + w_stm);
    for (int i = 0; i < n; i++) p[i] = (w_lstm * p[i] + w_stm * d->stm[i]) * norm;
}

/* Shape row 0 and prepare the rows of `probs` (IMP_FIELDS * width) in d->p. Returns 0
 * when imp_pick may draw, 1 when the sampler's fallback rules apply (a row with no
 * probability left, or a non-finite one): Python then draws. */
int imp_shape(imp_draw *d, const double *probs) {
    const int w = d->width, n = d->pitches;
    double *restrict p = d->p;
    for (int j = 0; j < IMP_FIELDS * w; j++) p[j] = probs[j];
    double tmp[256];
    if (n > 256) return 1;
    if (d->reg) {
        fold(p, tmp, n, d->lo, d->hi, octave_shift(p, n, d->center, d->slack));
        for (int i = 0; i < n; i++) p[i] = tmp[i];
    }
    if (d->stm != NULL) blend(p, d, n);
    if (d->key != NULL)
        for (int i = 0; i < n; i++) p[i] *= d->key[i];
    if (d->reg) {
        fold(p, tmp, n, d->lo, d->hi, 0);
        for (int i = 0; i < n; i++) p[i] = tmp[i];
    }
    for (int f = 0; f < IMP_FIELDS; f++) {
        double *restrict row = p + f * w;
        const unsigned char *allowed = d->allowed + f * w;
        for (int j = 0; j < w; j++) {
            double v = row[j];
            if (d->temperature != 1.0) v = exp(log(v > 1e-30 ? v : 1e-30) / d->temperature);
            row[j] = v * (double)allowed[j]; /* as NumPy's p * mask: NaN stays NaN */
        }
        const double total = pairwise_sum(row, w);
        if (!(total > 0.0 && total < INFINITY)) return 1;
        d->totals[f] = total;
    }
    return 0;
}

/* The index of the largest not yet taken (ties: the higher index, as a stable ascending
 * sort read backwards). */
static int next_largest(const double *row, int n, unsigned char *taken) {
    int best = -1;
    for (int j = n - 1; j >= 0; j--)
        if (!taken[j] && (best < 0 || row[j] > row[best])) best = j;
    taken[best] = 1;
    return best;
}

/* Draw each field from d->p (after imp_shape returned 0) with the uniforms u. */
void imp_pick(const imp_draw *d, const double *u, int *token) {
    const int w = d->width;
    int any_cut = 0;
    for (int f = 0; f < IMP_FIELDS; f++) any_cut |= d->cut[f];
    for (int f = 0; f < IMP_FIELDS; f++) {
        double *restrict row = d->p + f * w;
        if (any_cut)
            for (int j = 0; j < w; j++) row[j] /= d->totals[f];
        if (d->cut[f]) {
            /* The sorted prefix up to `keep` (top-k, then the first cumulative sum to
             * reach top_p), and the first of it whose running sum reaches u * its sum. */
            int order[256];
            double cum[256];
            unsigned char taken[256] = {0};
            const int n = w < 256 ? w : 256;
            int keep = d->keep[f];
            double run = 0.0;
            int k = 0;
            while (k < keep && k < n) {
                order[k] = next_largest(row, n, taken);
                run += row[order[k]];
                cum[k] = run;
                k++;
                if (d->top_p < 1.0 && run >= d->top_p) break;
            }
            keep = k;
            const double threshold = u[f] * cum[keep - 1];
            int below = 0;
            while (below < keep - 1 && cum[below] < threshold) below++;
            token[f] = order[below];
        } else {
            const int n = d->sizes[f];
            double total = 0.0;
            for (int j = 0; j < n; j++) total += row[j];
            const double threshold = u[f] * total;
            double run = 0.0;
            int index = 0;
            for (; index < n - 1; index++) {
                run += row[index];
                if (run >= threshold) break;
            }
            token[f] = index;
        }
    }
}

/* ---- Drawing one row under an interval mask (the harmonizer's voices) ------------------
 *
 * sample_field(probs, rng, temperature, top_k, top_p, allowed) of music/sampling.py for a
 * mask that allows class 0 (the rest) and the classes lo..hi not banned, in two calls:
 * imp_row_shape prepares the row and says whether a draw is needed (the generator is
 * drawn only then), imp_row_pick draws with one uniform. Totals are NumPy's pairwise
 * sums and the running sums sequential, as NumPy's, so a draw matches sample_field's
 * except where exp/log rounding (temperature != 1) moves it across a boundary.
 */

typedef struct {
    int n;                     /* classes in the row */
    int lo, hi;                /* allowed besides 0 */
    const unsigned char *banned; /* n flags: classes of lo..hi left out (NULL: none) */
    double temperature;
    int top_k;
    double top_p;
    double *p;                 /* n scratch: the masked row */
    double total;
} imp_row;

static int row_allowed(const imp_row *r, int i) {
    return i == 0 || (i >= r->lo && i <= r->hi && !(r->banned != NULL && r->banned[i]));
}

/* 1: no probability inside the mask (the caller takes the rest, drawing nothing);
 * 2: a non-finite or empty row after temperature (the caller's fallback); 0: pick. */
int imp_row_shape(imp_row *r, const double *probs) {
    const int n = r->n;
    if (n > 256 || n < 1) return 2;
    double mass = 0.0;
    for (int i = 0; i < n; i++)
        if (row_allowed(r, i)) mass += probs[i];
    if (!(mass > 0.0)) return 1;
    for (int i = 0; i < n; i++) {
        double v = probs[i];
        if (r->temperature != 1.0) v = exp(log(v > 1e-30 ? v : 1e-30) / r->temperature);
        r->p[i] = row_allowed(r, i) ? v : 0.0;
    }
    const double total = pairwise_sum(r->p, n);
    if (!(total > 0.0 && total < INFINITY)) return 2;
    for (int i = 0; i < n; i++) r->p[i] /= total;
    r->total = total;
    return 0;
}

/* Draw from the row imp_row_shape prepared, with the uniform u in [0, 1). */
int imp_row_pick(const imp_row *r, double u) {
    const int n = r->n;
    const double *p = r->p;
    if (r->top_k > 0 || r->top_p < 1.0) {
        int order[256];
        double kept[256];
        unsigned char taken[256] = {0};
        int keep = r->top_k > 0 && r->top_k < n ? r->top_k : n;
        double run = 0.0;
        int k = 0;
        while (k < keep) {
            order[k] = next_largest(p, n, taken);
            kept[k] = p[order[k]];
            run += kept[k];
            k++;
            if (r->top_p < 1.0 && run >= r->top_p) break;
        }
        keep = k;
        const double sum = pairwise_sum(kept, keep);
        double cum = 0.0;
        for (int i = 0; i < keep; i++) {
            cum += kept[i] / sum;
            if (cum >= u) return order[i];
        }
        return order[keep - 1];
    }
    double cdf_last = 0.0;
    for (int i = 0; i < n; i++) cdf_last += p[i];
    const double threshold = u * cdf_last;
    double cum = 0.0;
    for (int i = 0; i < n; i++) {
        cum += p[i];
        if (cum >= threshold) return i;
    }
    return n - 1;
}
