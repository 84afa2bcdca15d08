// SPDX-License-Identifier: MIT
//
// pciem_fb_client: the display tests' side of a DRM device, as a
// compositor or a test pattern generator would use it (libdrm): dumb
// buffers, atomic commits, page flips, damage clips and vblank events; and
// the picture checks (a PNG against the pattern modetest draws, two PNGs
// against each other).
//
//   pciem_fb_client ids DRIVER              CONNECTOR@CRTC for modetest -s
//   pciem_fb_client draw DRIVER EXPECTED.png READY
//       mode-sets 1024x768 with buffer A, flips to buffer B (waits for the
//       flip event), draws into B and commits only that damage; writes the
//       picture B now shows to EXPECTED.png, then READY, and holds the
//       display until SIGTERM
//   pciem_fb_client vblank DRIVER SECONDS   counts vblank events; passes
//       within 10% of the mode's refresh rate
//   pciem_fb_client redraw DRIVER FRAMES   benchmark: FRAMES full-screen
//       redraws of a 1024x768 dumb buffer (the CPU writes every pixel, then
//       DIRTYFB says all of it changed); prints "redraw frames_per_s
//       fill_mb_per_s": fill is the CPU's writing into the buffer alone
//   pciem_fb_client timer HZ SECONDS       benchmark reference: the jitter
//       of a plain absolute-deadline sleep at HZ, as "jitter mean_us
//       stddev_us max_us" (vblank prints the same for its events)
//   pciem_fb_client smpte PNG               the PNG is modetest's SMPTE
//       pattern (libdrm's tests/util/pattern.c) for its size, bit for bit
//   pciem_fb_client same A.png B.png        identical pictures
//   pciem_fb_client text PNG X Y CELLS      fbcon text: CELLS 8x16 glyph
//       cells from pixel (X, Y): cell 0 == cell 2, cell 1 == cell 3 and
//       cell 0 != cell 1 (the text written was "ABAB"), all have glyph
//       pixels, and the line below is empty
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "picture.hpp"

namespace {

using pciem::picture::Picture;

int fail(const std::string& what) {
    std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    return 1;
}

int open_driver(const char* driver) {
    const int fd = drmOpen(driver, nullptr);
    if (fd < 0) {
        std::fprintf(stderr, "drmOpen(%s) failed: %s\n", driver, std::strerror(errno));
    }
    return fd;
}

struct Pipe {
    uint32_t connector = 0;
    uint32_t crtc = 0;
    uint32_t plane = 0;
    drmModeModeInfo mode{};
};

std::optional<Pipe> find_pipe(int fd, int width, int height) {
    drmModeRes* res = drmModeGetResources(fd);
    if (res == nullptr || res->count_connectors == 0 || res->count_crtcs == 0) {
        return std::nullopt;
    }
    Pipe p;
    p.connector = res->connectors[0];
    p.crtc = res->crtcs[0];
    drmModeConnector* c = drmModeGetConnector(fd, p.connector);
    bool found = false;
    for (int i = 0; c != nullptr && i < c->count_modes; ++i) {
        if (c->modes[i].hdisplay == width && c->modes[i].vdisplay == height) {
            p.mode = c->modes[i];
            found = true;
            break;
        }
    }
    drmModeFreeConnector(c);
    drmModeFreeResources(res);
    drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
    drmModePlaneRes* planes = drmModeGetPlaneResources(fd);
    if (planes != nullptr && planes->count_planes > 0) {
        p.plane = planes->planes[0];
    }
    drmModeFreePlaneResources(planes);
    if (!found || p.plane == 0) {
        return std::nullopt;
    }
    return p;
}

uint32_t prop_id(int fd, uint32_t object, uint32_t type, const char* name) {
    drmModeObjectProperties* props = drmModeObjectGetProperties(fd, object, type);
    uint32_t id = 0;
    for (uint32_t i = 0; props != nullptr && i < props->count_props; ++i) {
        drmModePropertyRes* p = drmModeGetProperty(fd, props->props[i]);
        if (p != nullptr && std::strcmp(p->name, name) == 0) {
            id = p->prop_id;
        }
        drmModeFreeProperty(p);
    }
    drmModeFreeObjectProperties(props);
    if (id == 0) {
        std::fprintf(stderr, "no property %s\n", name);
        std::exit(1);
    }
    return id;
}

struct Buffer {
    uint32_t handle = 0;
    uint32_t pitch = 0;
    uint64_t size = 0;
    uint32_t fb = 0;
    uint32_t* pixels = nullptr;
    uint32_t width = 0;
    uint32_t height = 0;

    void fill(int x, int y, int w, int h, uint32_t color) {
        for (int j = y; j < y + h; ++j) {
            for (int i = x; i < x + w; ++i) {
                pixels[j * (pitch / 4) + i] = color;
            }
        }
    }
    Picture picture() const {
        Picture p{width, height, std::vector<uint8_t>(size_t{width} * height * 3)};
        for (uint32_t j = 0; j < height; ++j) {
            for (uint32_t i = 0; i < width; ++i) {
                const uint32_t v = pixels[j * (pitch / 4) + i];
                uint8_t* o = &p.rgb[(size_t{j} * width + i) * 3];
                o[0] = static_cast<uint8_t>(v >> 16);
                o[1] = static_cast<uint8_t>(v >> 8);
                o[2] = static_cast<uint8_t>(v);
            }
        }
        return p;
    }
};

std::optional<Buffer> make_buffer(int fd, uint32_t w, uint32_t h) {
    drm_mode_create_dumb create{};
    create.width = w;
    create.height = h;
    create.bpp = 32;
    if (drmIoctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0) {
        return std::nullopt;
    }
    Buffer b{create.handle, create.pitch, create.size, 0, nullptr, w, h};
    const uint32_t handles[4] = {b.handle};
    const uint32_t pitches[4] = {b.pitch};
    const uint32_t offsets[4] = {};
    if (drmModeAddFB2(fd, w, h, DRM_FORMAT_XRGB8888, handles, pitches, offsets, &b.fb, 0) != 0) {
        return std::nullopt;
    }
    drm_mode_map_dumb map{};
    map.handle = b.handle;
    if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) {
        return std::nullopt;
    }
    void* mem = mmap(nullptr, b.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                     static_cast<off_t>(map.offset));
    if (mem == MAP_FAILED) {
        return std::nullopt;
    }
    b.pixels = static_cast<uint32_t*>(mem);
    return b;
}

// Events handled so far (flip and vblank events alike), and the vblank
// sequence number the last one carried.
unsigned events_seen = 0;
unsigned last_sequence = 0;
std::vector<double> event_times;       // seconds, as the kernel stamped them
std::vector<unsigned> event_sequences; // the vblank each one was for

bool wait_event(int fd, int timeout_ms) {
    const unsigned before = events_seen;
    drmEventContext ev{};
    ev.version = 2;
    ev.page_flip_handler = [](int, unsigned sequence, unsigned sec, unsigned usec, void*) {
        ++events_seen;
        last_sequence = sequence;
        event_times.push_back(sec + usec / 1e6);
        event_sequences.push_back(sequence);
    };
    ev.vblank_handler = ev.page_flip_handler;
    pollfd p{fd, POLLIN, 0};
    while (events_seen == before) {
        if (poll(&p, 1, timeout_ms) <= 0) {
            return false;
        }
        drmHandleEvent(fd, &ev);
    }
    return true;
}

int cmd_ids(const char* driver) {
    const int fd = open_driver(driver);
    auto p = fd < 0 ? std::nullopt : find_pipe(fd, 1024, 768);
    if (!p) {
        return fail("no connector with a 1024x768 mode");
    }
    std::printf("%u@%u\n", p->connector, p->crtc);
    return 0;
}

volatile sig_atomic_t stop_flag = 0;

int cmd_draw(const char* driver, const char* expected, const char* ready) {
    const int fd = open_driver(driver);
    if (fd < 0 || drmSetClientCap(fd, DRM_CLIENT_CAP_ATOMIC, 1) != 0) {
        return fail("no atomic modesetting on " + std::string(driver));
    }
    auto p = find_pipe(fd, 1024, 768);
    auto a = make_buffer(fd, 1024, 768);
    auto b = make_buffer(fd, 1024, 768);
    if (!p || !a || !b) {
        return fail("cannot set up a pipe and two dumb buffers");
    }
    a->fill(0, 0, 1024, 768, 0x00203040);
    a->fill(100, 100, 300, 200, 0x00ff0000);
    b->fill(0, 0, 1024, 768, 0x00102030);
    b->fill(10, 20, 500, 300, 0x0000ff00);
    b->fill(700, 400, 200, 300, 0x000000ff);

    uint32_t mode_blob = 0;
    drmModeCreatePropertyBlob(fd, &p->mode, sizeof(p->mode), &mode_blob);
    const uint32_t fb_id = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "FB_ID");
    const uint32_t damage_id = prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, "FB_DAMAGE_CLIPS");
    drmModeAtomicReq* req = drmModeAtomicAlloc();
    auto plane_prop = [&](const char* name, uint64_t v) {
        drmModeAtomicAddProperty(req, p->plane, prop_id(fd, p->plane, DRM_MODE_OBJECT_PLANE, name),
                                 v);
    };
    drmModeAtomicAddProperty(req, p->connector,
                             prop_id(fd, p->connector, DRM_MODE_OBJECT_CONNECTOR, "CRTC_ID"),
                             p->crtc);
    drmModeAtomicAddProperty(req, p->crtc, prop_id(fd, p->crtc, DRM_MODE_OBJECT_CRTC, "MODE_ID"),
                             mode_blob);
    drmModeAtomicAddProperty(req, p->crtc, prop_id(fd, p->crtc, DRM_MODE_OBJECT_CRTC, "ACTIVE"), 1);
    plane_prop("CRTC_ID", p->crtc);
    plane_prop("FB_ID", a->fb);
    plane_prop("SRC_X", 0);
    plane_prop("SRC_Y", 0);
    plane_prop("SRC_W", uint64_t{1024} << 16);
    plane_prop("SRC_H", uint64_t{768} << 16);
    plane_prop("CRTC_X", 0);
    plane_prop("CRTC_Y", 0);
    plane_prop("CRTC_W", 1024);
    plane_prop("CRTC_H", 768);
    if (drmModeAtomicCommit(fd, req, DRM_MODE_ATOMIC_ALLOW_MODESET, nullptr) != 0) {
        return fail(std::string("atomic modeset: ") + std::strerror(errno));
    }
    drmModeAtomicFree(req);

    // Page flip to B, completed by its event.
    req = drmModeAtomicAlloc();
    drmModeAtomicAddProperty(req, p->plane, fb_id, b->fb);
    if (drmModeAtomicCommit(fd, req, DRM_MODE_PAGE_FLIP_EVENT | DRM_MODE_ATOMIC_NONBLOCK,
                            nullptr) != 0) {
        return fail(std::string("page flip: ") + std::strerror(errno));
    }
    drmModeAtomicFree(req);
    if (!wait_event(fd, 5000)) {
        return fail("no page flip event within 5 s");
    }

    // Draw into B while it is on screen, then say where (damage clips).
    b->fill(300, 500, 64, 32, 0x00ffffff);
    b->fill(900, 10, 20, 700, 0x00ff00ff);
    const drm_mode_rect clips[2] = {{300, 500, 364, 532}, {900, 10, 920, 710}};
    uint32_t clip_blob = 0;
    drmModeCreatePropertyBlob(fd, clips, sizeof(clips), &clip_blob);
    req = drmModeAtomicAlloc();
    drmModeAtomicAddProperty(req, p->plane, fb_id, b->fb);
    drmModeAtomicAddProperty(req, p->plane, damage_id, clip_blob);
    if (drmModeAtomicCommit(fd, req, DRM_MODE_PAGE_FLIP_EVENT, nullptr) != 0) {
        return fail(std::string("damage commit: ") + std::strerror(errno));
    }
    drmModeAtomicFree(req);
    if (!wait_event(fd, 5000)) {
        return fail("no event for the damage commit within 5 s");
    }
    if (auto ok = pciem::picture::write_png(b->picture(), expected); !ok) {
        return fail(ok.error().message);
    }
    std::ofstream(ready) << "drawn\n";
    std::signal(SIGTERM, [](int) { stop_flag = 1; });
    while (stop_flag == 0) {
        pause();
    }
    return 0;
}

// Deviation of the intervals between times from the nominal period.
// ticks[i]: which period times[i] ended (a vblank's sequence number), so
// an event that stands for several vblanks is measured against as many
// periods; without it, one period each.
void print_jitter(const std::vector<double>& times, double period,
                  const std::vector<unsigned>& ticks = {}) {
    double sum = 0, sq = 0, worst = 0;
    size_t n = 0;
    for (size_t i = 1; i < times.size(); ++i) {
        const double periods = ticks.empty() ? 1.0 : static_cast<double>(ticks[i] - ticks[i - 1]);
        const double d = (times[i] - times[i - 1] - periods * period) * 1e6;
        sum += d;
        sq += d * d;
        worst = std::max(worst, std::abs(d));
        ++n;
    }
    if (n == 0) {
        return;
    }
    const double mean = sum / n;
    std::printf("jitter %.1f %.1f %.1f\n", mean, std::sqrt(std::max(0.0, sq / n - mean * mean)),
                worst);
}

int cmd_timer(int hz, int seconds) {
    std::vector<double> times;
    timespec next{};
    clock_gettime(CLOCK_MONOTONIC, &next);
    const long period = 1'000'000'000L / hz;
    for (int i = 0; i < hz * seconds; ++i) {
        next.tv_nsec += period;
        if (next.tv_nsec >= 1'000'000'000L) {
            next.tv_nsec -= 1'000'000'000L;
            ++next.tv_sec;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        times.push_back(now.tv_sec + now.tv_nsec / 1e9);
    }
    print_jitter(times, 1.0 / hz);
    return 0;
}

int cmd_redraw(const char* driver, int frames) {
    const int fd = open_driver(driver);
    auto p = fd < 0 ? std::nullopt : find_pipe(fd, 1024, 768);
    auto a = fd < 0 ? std::nullopt : make_buffer(fd, 1024, 768);
    if (!p || !a) {
        return fail("cannot set up a 1024x768 pipe and buffer");
    }
    uint32_t conn = p->connector;
    if (drmModeSetCrtc(fd, p->crtc, a->fb, 0, 0, &conn, 1, &p->mode) != 0) {
        return fail(std::string("drmModeSetCrtc: ") + std::strerror(errno));
    }
    drmModeClip all{0, 0, 1024, 768};
    double fill_s = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < frames; ++i) {
        const auto f0 = std::chrono::steady_clock::now();
        a->fill(0, 0, 1024, 768, 0x010101u * static_cast<uint32_t>(i & 0xff));
        fill_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - f0).count();
        if (drmModeDirtyFB(fd, a->fb, &all, 1) != 0 && errno != ENOSYS) {
            return fail(std::string("drmModeDirtyFB: ") + std::strerror(errno));
        }
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("redraw %.2f %.1f\n", frames / total, frames * 1024.0 * 768 * 4 / fill_s / 1e6);
    return 0;
}

int cmd_vblank(const char* driver, int seconds) {
    const int fd = open_driver(driver);
    drmModeCrtc* crtc = nullptr;
    if (drmModeRes* res = fd < 0 ? nullptr : drmModeGetResources(fd); res != nullptr) {
        crtc = drmModeGetCrtc(fd, res->crtcs[0]);
        drmModeFreeResources(res);
    }
    if (crtc == nullptr || !crtc->mode_valid) {
        return fail("no active CRTC to count vblanks on");
    }
    const double refresh = crtc->mode.vrefresh;
    // Where the count is now; then an event for every vblank after it, each
    // asked for by its absolute number. One that already passed while the
    // last event travelled is sent at once, carrying the count as it is
    // then: vblanks handled in a burst (a late interrupt thread counts
    // every frame it missed) come as one event, so vblanks are counted by
    // the sequence numbers the events carry, not by events.
    drmVBlank now{};
    now.request.type = DRM_VBLANK_RELATIVE;
    if (drmWaitVBlank(fd, &now) != 0) {
        return fail(std::string("drmWaitVBlank: ") + std::strerror(errno));
    }
    last_sequence = now.reply.sequence;
    const unsigned first = last_sequence;
    event_times.clear();
    event_sequences.clear();
    int events = 0;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
        drmVBlank vbl{};
        vbl.request.type = static_cast<drmVBlankSeqType>(DRM_VBLANK_ABSOLUTE | DRM_VBLANK_EVENT);
        vbl.request.sequence = last_sequence + 1;
        if (drmWaitVBlank(fd, &vbl) != 0) {
            return fail(std::string("drmWaitVBlank: ") + std::strerror(errno));
        }
        if (!wait_event(fd, 1000)) {
            return fail("a vblank event did not come within 1 s");
        }
        ++events;
    }
    print_jitter(event_times, 1.0 / refresh, event_sequences);
    const double want = refresh * seconds;
    const unsigned vblanks = last_sequence - first;
    std::printf("%u vblanks (%d events) in %d s, mode refresh %.0f Hz (want %.0f +- 10%%)\n",
                vblanks, events, seconds, refresh, want);
    return vblanks >= want * 0.9 && vblanks <= want * 1.1 ? 0 : fail("vblank rate off");
}

// libdrm's SMPTE pattern for XRGB8888 (what modetest -s shows), written
// from its description: 7 bars over 2/3 of the height, 7 reversed ones
// over the next 1/9, then the -I/white/+Q/black and PLUGE strip.
uint32_t smpte(uint32_t x, uint32_t y, uint32_t w, uint32_t h) {
    static const uint32_t top[7] = {0xc0c0c0, 0xc0c000, 0x00c0c0, 0x00c000,
                                    0xc000c0, 0xc00000, 0x0000c0};
    static const uint32_t middle[7] = {0x0000c0, 0x131313, 0xc000c0, 0x131313,
                                       0x00c0c0, 0x131313, 0xc0c0c0};
    static const uint32_t bottom[8] = {0x00214c, 0xffffff, 0x32006a, 0x131313,
                                       0x090909, 0x131313, 0x1d1d1d, 0x131313};
    if (y < h * 6 / 9) {
        return top[x * 7 / w];
    }
    if (y < h * 7 / 9) {
        return middle[x * 7 / w];
    }
    if (x < w * 5 / 7) {
        return bottom[x * 4 / (w * 5 / 7)];
    }
    if (x < w * 6 / 7) {
        return bottom[(x - w * 5 / 7) * 3 / (w / 7) + 4];
    }
    return bottom[7];
}

int cmd_smpte(const char* path) {
    auto p = pciem::picture::read_png(path);
    if (!p) {
        return fail(p.error().message);
    }
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < p->height; ++y) {
        for (uint32_t x = 0; x < p->width; ++x) {
            const uint32_t want = smpte(x, y, p->width, p->height);
            if (p->pixel(x, y) != want && wrong++ == 0) {
                std::fprintf(stderr, "first difference at (%u, %u): %06x, want %06x\n", x, y,
                             p->pixel(x, y), want);
            }
        }
    }
    std::printf("%ux%u: %llu of %u pixels differ from the SMPTE pattern\n", p->width, p->height,
                static_cast<unsigned long long>(wrong), p->width * p->height);
    return wrong == 0 ? 0 : 1;
}

int cmd_same(const char* a_path, const char* b_path) {
    auto a = pciem::picture::read_png(a_path);
    auto b = pciem::picture::read_png(b_path);
    if (!a || !b) {
        return fail(!a ? a.error().message : b.error().message);
    }
    if (a->width != b->width || a->height != b->height) {
        return fail("sizes differ");
    }
    uint64_t wrong = 0;
    for (uint32_t y = 0; y < a->height; ++y) {
        for (uint32_t x = 0; x < a->width; ++x) {
            if (a->pixel(x, y) != b->pixel(x, y) && wrong++ == 0) {
                std::fprintf(stderr, "first difference at (%u, %u): %06x vs %06x\n", x, y,
                             a->pixel(x, y), b->pixel(x, y));
            }
        }
    }
    std::printf("%llu pixels differ\n", static_cast<unsigned long long>(wrong));
    return wrong == 0 ? 0 : 1;
}

// The pixels of the 8x16 cell whose top left is (x, y), and how many of
// them are lit.
std::vector<uint32_t> cell(const Picture& p, uint32_t x, uint32_t y, int& lit) {
    std::vector<uint32_t> v;
    lit = 0;
    for (uint32_t j = y; j < y + 16; ++j) {
        for (uint32_t i = x; i < x + 8; ++i) {
            v.push_back(p.pixel(i, j));
            lit += p.pixel(i, j) != 0 ? 1 : 0;
        }
    }
    return v;
}

int cmd_text(const char* path, uint32_t x, uint32_t y, int cells) {
    auto p = pciem::picture::read_png(path);
    if (!p) {
        return fail(p.error().message);
    }
    std::vector<std::vector<uint32_t>> c;
    for (int i = 0; i < cells; ++i) {
        int lit = 0;
        c.push_back(cell(*p, x + 8 * i, y, lit));
        std::printf("cell %d: %d glyph pixels\n", i, lit);
        if (lit == 0) {
            return fail("cell " + std::to_string(i) + " has no glyph pixels");
        }
    }
    if (c[0] != c[2] || c[1] != c[3]) {
        return fail("the same letter looks different in two cells");
    }
    if (c[0] == c[1]) {
        return fail("A and B look the same");
    }
    int lit = 0;
    for (int i = 0; i < cells + 4; ++i) {
        int l = 0;
        (void)cell(*p, x + 8 * i, y + 16, l);
        lit += l;
    }
    return lit == 0 ? 0 : fail("the line below the text is not empty");
}

} // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    if (cmd == "ids" && argc == 3) {
        return cmd_ids(argv[2]);
    }
    if (cmd == "draw" && argc == 5) {
        return cmd_draw(argv[2], argv[3], argv[4]);
    }
    if (cmd == "vblank" && argc == 4) {
        return cmd_vblank(argv[2], std::atoi(argv[3]));
    }
    if (cmd == "redraw" && argc == 4) {
        return cmd_redraw(argv[2], std::atoi(argv[3]));
    }
    if (cmd == "timer" && argc == 4) {
        return cmd_timer(std::atoi(argv[2]), std::atoi(argv[3]));
    }
    if (cmd == "smpte" && argc == 3) {
        return cmd_smpte(argv[2]);
    }
    if (cmd == "same" && argc == 4) {
        return cmd_same(argv[2], argv[3]);
    }
    if (cmd == "text" && argc == 6) {
        return cmd_text(argv[2], std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
    }
    std::fprintf(stderr, "usage: see the comment at the top of tests/guest/fb_client.cpp\n");
    return 2;
}
