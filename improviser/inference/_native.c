/* The streaming LSTM step of improviser.inference.native_engine, compiled.
 *
 * The same arithmetic as NumpyEngine (tabulated layer-0 input side, stacked deeper
 * kernels, i/f/o gate columns pre-halved so one tanh serves sigmoids and candidate,
 * padded heads, float32 softmax written as float64) on the NumpyEngine's own arrays, in
 * one call instead of some forty NumPy calls. Loaded with ctypes; no Python API here.
 */
#include <math.h>
#include <stddef.h>

#define IMP_MAX_LAYERS 8
#define IMP_FIELDS 4

typedef struct {
    int layers;
    int width;                       /* columns per head in the padded logits */
    int units[IMP_MAX_LAYERS];
    int vocab[IMP_FIELDS];           /* classes of each input field */
    int sizes[IMP_FIELDS];           /* classes of each head (the rest of its row is pad) */
    const float *tables[IMP_FIELDS]; /* (vocab[f], 4 * units[0]) */
    const float *rec0;               /* (units[0], 4 * units[0]) */
    float *pre0;                     /* h0 @ rec0, done ahead by imp_prepare */
    const float *stacked[IMP_MAX_LAYERS]; /* l >= 1: (units[l-1] + units[l] + 1, 4 * units[l]) */
    float *inputs[IMP_MAX_LAYERS];   /* l >= 1: [h_{l-1}; h_l; 1] */
    float *h[IMP_MAX_LAYERS];
    float *c[IMP_MAX_LAYERS];
    float *z[IMP_MAX_LAYERS];
    const float *head;               /* (units[last] + 1, IMP_FIELDS * width) */
    const float *top;                /* [h_last; 1] */
    float *logits;                   /* IMP_FIELDS * width */
    double *probs;                   /* IMP_FIELDS * width */
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

/* Layer 0's recurrent product for the next step (see NumpyEngine.prepare). */
void imp_prepare(const imp_net *net) {
    const int u0 = net->units[0];
    matvec(net->h[0], u0, net->rec0, 4 * u0, net->pre0);
}

/* One step on token (pitch, ioi, duration, velocity); softmax into net->probs when
 * with_probs. `prepared`: net->pre0 holds this state's layer-0 product. Returns 0, or
 * -1 (nothing changed) when a field's class is out of range. */
int imp_step(const imp_net *net, const int *token, int prepared, int with_probs) {
    for (int f = 0; f < IMP_FIELDS; f++)
        if (token[f] < 0 || token[f] >= net->vocab[f]) return -1;
    const int u0 = net->units[0];
    const int g0 = 4 * u0;
    float *restrict z = net->z[0];
    if (prepared) {
        for (int j = 0; j < g0; j++) z[j] = net->pre0[j];
    } else {
        matvec(net->h[0], u0, net->rec0, g0, z);
    }
    for (int f = 0; f < IMP_FIELDS; f++) {
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
    const int width = net->width;
    matvec(net->top, last + 1, net->head, IMP_FIELDS * width, net->logits);
    if (!with_probs) return 0;
    for (int f = 0; f < IMP_FIELDS; f++) {
        float *restrict e = net->logits + f * width; /* exp in place: logits are scratch */
        double *restrict p = net->probs + f * width;
        const int n = net->sizes[f];
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
    return 0;
}
