/* A JACK MIDI input that runs no Python on JACK's thread (improviser.live.io.jack_input).
 *
 * RtMidi calls a Python callback from JACK's process thread, which must take the GIL:
 * a busy interpreter makes that client late for its cycle, and a client cannot be
 * closed safely while messages come in. Here the process callback only copies each
 * message (3 bytes at most: channel voice, song position, real-time; longer ones are
 * counted and dropped) with its JACK time into a bounded single-producer ring, then
 * wakes the reader through an eventfd. The loop reads the ring when the eventfd is
 * readable. libjack is opened with dlopen: no JACK headers or link-time dependency.
 * Loaded with ctypes; no Python API here.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define JIN_RING 8192 /* a power of two */

typedef uint32_t jack_nframes_t;
typedef uint64_t jack_time_t;
typedef struct {
    jack_nframes_t time;
    size_t size;
    unsigned char *buffer;
} jack_midi_event_t;
typedef int (*process_fn)(jack_nframes_t, void *);
typedef void (*shutdown_fn)(void *);

static struct {
    void *lib;
    void *(*client_open)(const char *, int, int *, ...);
    int (*client_close)(void *);
    void *(*port_register)(void *, const char *, const char *, unsigned long, unsigned long);
    int (*set_process_callback)(void *, process_fn, void *);
    void (*on_shutdown)(void *, shutdown_fn, void *);
    int (*activate)(void *);
    void *(*port_get_buffer)(void *, jack_nframes_t);
    uint32_t (*midi_get_event_count)(void *);
    int (*midi_event_get)(jack_midi_event_t *, void *, uint32_t);
    jack_nframes_t (*last_frame_time)(const void *);
    jack_time_t (*frames_to_time)(const void *, jack_nframes_t);
    jack_time_t (*get_time)(void);
    int (*connect)(void *, const char *, const char *);
    const char **(*get_ports)(void *, const char *, const char *, unsigned long);
    void (*free)(void *);
    const char *(*port_name)(const void *);
    char *(*get_client_name)(void *);
} J;

typedef struct {
    uint64_t time_us;
    uint8_t size;
    uint8_t data[3];
} jin_event;

typedef struct {
    void *client;
    void *port;
    int efd;
    atomic_int dead;            /* the server went away */
    atomic_uint_fast64_t head;  /* written by JACK's thread */
    atomic_uint_fast64_t tail;  /* written by the reader */
    atomic_uint_fast64_t dropped_long;
    atomic_uint_fast64_t dropped_full;
    jin_event ring[JIN_RING];
} jin_input;

/* 0: libjack loaded; -1: not there. */
int jin_load(void) {
    if (J.lib) return 0;
    void *lib = dlopen("libjack.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib) return -1;
#define SYM(field, name) \
    if (!(*(void **)&J.field = dlsym(lib, name))) { dlclose(lib); return -1; }
    SYM(client_open, "jack_client_open")
    SYM(client_close, "jack_client_close")
    SYM(port_register, "jack_port_register")
    SYM(set_process_callback, "jack_set_process_callback")
    SYM(on_shutdown, "jack_on_shutdown")
    SYM(activate, "jack_activate")
    SYM(port_get_buffer, "jack_port_get_buffer")
    SYM(midi_get_event_count, "jack_midi_get_event_count")
    SYM(midi_event_get, "jack_midi_event_get")
    SYM(last_frame_time, "jack_last_frame_time")
    SYM(frames_to_time, "jack_frames_to_time")
    SYM(get_time, "jack_get_time")
    SYM(connect, "jack_connect")
    SYM(get_ports, "jack_get_ports")
    SYM(free, "jack_free")
    SYM(port_name, "jack_port_name")
    SYM(get_client_name, "jack_get_client_name")
#undef SYM
    J.lib = lib;
    return 0;
}

static int process(jack_nframes_t frames, void *arg) {
    jin_input *in = arg;
    void *buffer = J.port_get_buffer(in->port, frames);
    uint32_t count = J.midi_get_event_count(buffer);
    if (!count) return 0;
    jack_nframes_t base = J.last_frame_time(in->client);
    uint64_t head = atomic_load_explicit(&in->head, memory_order_relaxed);
    int added = 0;
    for (uint32_t i = 0; i < count; i++) {
        jack_midi_event_t ev;
        if (J.midi_event_get(&ev, buffer, i) != 0 || ev.size == 0) continue;
        if (ev.size > 3) {
            atomic_fetch_add_explicit(&in->dropped_long, 1, memory_order_relaxed);
            continue;
        }
        uint64_t tail = atomic_load_explicit(&in->tail, memory_order_acquire);
        if (head - tail >= JIN_RING) {
            atomic_fetch_add_explicit(&in->dropped_full, 1, memory_order_relaxed);
            continue;
        }
        jin_event *slot = &in->ring[head & (JIN_RING - 1)];
        slot->time_us = J.frames_to_time(in->client, base + ev.time);
        slot->size = (uint8_t)ev.size;
        memcpy(slot->data, ev.buffer, ev.size);
        head++;
        added = 1;
    }
    if (added) {
        atomic_store_explicit(&in->head, head, memory_order_release);
        uint64_t one = 1;
        ssize_t unused = write(in->efd, &one, sizeof one);
        (void)unused;
    }
    return 0;
}

static void shutdown(void *arg) {
    atomic_store(&((jin_input *)arg)->dead, 1);
}

/* A client named `name` (NULL if no server) with one MIDI input port `port`, active.
 * *status gets JACK's status bits. */
jin_input *jin_open(const char *name, const char *port, int *status) {
    if (jin_load() != 0) return NULL;
    jin_input *in = calloc(1, sizeof *in);
    if (!in) return NULL;
    in->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (in->efd < 0) { free(in); return NULL; }
    /* JackNoStartServer; a name taken is made unique by JACK, as RtMidi's clients are */
    in->client = J.client_open(name, 0x01, status);
    if (!in->client) { close(in->efd); free(in); return NULL; }
    in->port = J.port_register(in->client, port, "8 bit raw midi", 0x1 /* JackPortIsInput */, 0);
    if (!in->port || J.set_process_callback(in->client, process, in) != 0) {
        J.client_close(in->client); close(in->efd); free(in); return NULL;
    }
    J.on_shutdown(in->client, shutdown, in);
    if (J.activate(in->client) != 0) {
        J.client_close(in->client); close(in->efd); free(in); return NULL;
    }
    return in;
}

int jin_fd(jin_input *in) { return in->efd; }
int jin_dead(jin_input *in) { return atomic_load(&in->dead); }
const char *jin_port_name(jin_input *in) { return J.port_name(in->port); }
uint64_t jin_now(void) { return J.get_time(); }
uint64_t jin_dropped(jin_input *in) {
    return atomic_load(&in->dropped_long) + atomic_load(&in->dropped_full);
}

/* Connect the output port `source` to ours; 0 on success (or already connected). */
int jin_connect(jin_input *in, const char *source) {
    int rc = J.connect(in->client, source, J.port_name(in->port));
    return rc == 17 /* EEXIST */ ? 0 : rc;
}

/* The MIDI output ports there are, NUL-separated into `out` (`size` bytes); how many. */
int jin_outputs(jin_input *in, char *out, int size) {
    const char **ports = J.get_ports(in->client, NULL, "8 bit raw midi", 0x2 /* JackPortIsOutput */);
    int n = 0, used = 0;
    if (!ports) return 0;
    for (; ports[n]; n++) {
        int len = (int)strlen(ports[n]) + 1;
        if (used + len > size) break;
        memcpy(out + used, ports[n], (size_t)len);
        used += len;
    }
    J.free(ports);
    return n;
}

/* Up to `max` events into `out` (jin_event each), oldest first; how many. The eventfd
 * is read first, so a wake after the ring was read is never lost. */
int jin_read(jin_input *in, jin_event *out, int max) {
    uint64_t value;
    ssize_t unused = read(in->efd, &value, sizeof value);
    (void)unused;
    uint64_t tail = atomic_load_explicit(&in->tail, memory_order_relaxed);
    uint64_t head = atomic_load_explicit(&in->head, memory_order_acquire);
    int n = 0;
    while (tail != head && n < max) {
        out[n++] = in->ring[tail & (JIN_RING - 1)];
        tail++;
    }
    atomic_store_explicit(&in->tail, tail, memory_order_release);
    if (tail != head) {  /* more than `max`: wake the reader again */
        uint64_t one = 1;
        unused = write(in->efd, &one, sizeof one);
    }
    return n;
}

/* Close the client (its thread stops) and free. A client of a dead server is left as
 * it is, never closed (that talks to a server that is not there) nor freed (libjack
 * holds it): a few hundred KB kept per server lost. */
void jin_close(jin_input *in) {
    if (!in || atomic_load(&in->dead)) return;
    J.client_close(in->client);
    close(in->efd);
    free(in);
}
