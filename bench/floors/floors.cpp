// SPDX-License-Identifier: MIT
// pciem-bench-floors: what the pieces of one interrupt-driven I/O cost at
// least in this guest, measured with nothing of PCIem in the path
// (bench/qd1_floors.sh, docs/bench.md "What bounds queue depth 1").
//
// A device model on one vCPU serving a driver on the other pays, per I/O,
// at least: the driver's store seen by the model's CPU (notice), the
// model's system calls (syscall), its data copy (copy), and the wake-up
// of the driver's sleeping thread by an event from the model's CPU
// (wake). Each is measured here as its own minimal program, so the sum is
// a floor that no model, PCIem's or another, can go under on this host.
//
// Prints one line per figure: FLOOR <name> <median_ns> <min_ns> <samples>.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "pciem-bench-floors: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        die("sched_setaffinity");
    }
}

void report(const char* name, std::vector<uint64_t> samples) {
    std::sort(samples.begin(), samples.end());
    std::printf("FLOOR %s %llu %llu %zu\n", name,
                static_cast<unsigned long long>(samples[samples.size() / 2]),
                static_cast<unsigned long long>(samples.front()), samples.size());
    std::fflush(stdout);
}

// A system call that does nothing: the least a model pays per ioctl.
void syscall_floor(int cpu, int n) {
    pin(cpu);
    std::vector<uint64_t> s;
    for (int r = 0; r < n; r++) {
        uint64_t t0 = now_ns();
        for (int i = 0; i < 100; i++) {
            syscall(SYS_getppid);
        }
        s.push_back((now_ns() - t0) / 100);
    }
    report("syscall", s);
}

// 4 KiB copied between two buffers: the data of one read.
void copy_floor(int cpu, int n) {
    pin(cpu);
    std::vector<unsigned char> a(1 << 20, 1), b(1 << 20);
    std::vector<uint64_t> s;
    for (int r = 0; r < n; r++) {
        size_t off = (size_t(r) * 4096) % a.size();
        uint64_t t0 = now_ns();
        std::memcpy(b.data() + off, a.data() + off, 4096);
        s.push_back(now_ns() - t0);
        asm volatile("" ::"r"(b.data()) : "memory");
    }
    report("copy-4k", s);
}

// A store on one vCPU seen by a thread spinning on the other: half a
// ping-pong round trip. This is what a polling model waits, at best, for
// a doorbell the driver wrote.
void notice_floor(int cpu_a, int cpu_b, int n) {
    alignas(64) std::atomic<uint64_t> ping{0};
    alignas(64) std::atomic<uint64_t> pong{0};
    std::thread echo([&] {
        pin(cpu_b);
        for (uint64_t i = 1; i <= uint64_t(n); i++) {
            while (ping.load(std::memory_order_acquire) != i) {
            }
            pong.store(i, std::memory_order_release);
        }
    });
    pin(cpu_a);
    std::vector<uint64_t> s;
    for (uint64_t i = 1; i <= uint64_t(n); i++) {
        uint64_t t0 = now_ns();
        ping.store(i, std::memory_order_release);
        while (pong.load(std::memory_order_acquire) != i) {
        }
        s.push_back((now_ns() - t0) / 2);
    }
    echo.join();
    report("notice", s);
}

// A thread asleep on an idle vCPU, woken by an event written on the
// other: the interrupt (a reschedule IPI here, an MSI for a device), the
// vCPU leaving halt, and the switch to the woken thread. A driver's
// thread waiting for its completion pays this at least once per I/O.
void wake_floor(int cpu_a, int cpu_b, int n, int gap_us) {
    int efd = eventfd(0, 0);
    if (efd < 0) {
        die("eventfd");
    }
    std::atomic<uint64_t> sent{0};
    std::atomic<int> woken{0};
    std::vector<uint64_t> s;
    s.reserve(size_t(n));
    std::thread sleeper([&] {
        pin(cpu_b);
        for (int i = 0; i < n; i++) {
            uint64_t v = 0;
            if (read(efd, &v, sizeof(v)) != sizeof(v)) {
                die("read eventfd");
            }
            uint64_t t1 = now_ns();
            s.push_back(t1 - sent.load(std::memory_order_acquire));
            woken.store(i + 1, std::memory_order_release);
        }
    });
    pin(cpu_a);
    for (int i = 0; i < n; i++) {
        // One event at a time (an eventfd adds up writes not yet read),
        // then a gap spent spinning, as a polling model spends it, long
        // enough for the other vCPU to go idle and halt.
        while (woken.load(std::memory_order_acquire) != i) {
        }
        uint64_t until = now_ns() + uint64_t(gap_us) * 1000;
        while (now_ns() < until) {
        }
        uint64_t one = 1;
        sent.store(now_ns(), std::memory_order_release);
        if (write(efd, &one, sizeof(one)) != sizeof(one)) {
            die("write eventfd");
        }
    }
    sleeper.join();
    close(efd);
    report("wake", s);
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
        std::printf("Usage: pciem-bench-floors [SAMPLES]\n"
                    "Measures, on CPUs 0 and 1, the least each piece of an interrupt-driven\n"
                    "I/O costs in this machine: syscall, copy-4k, notice (a store seen by a\n"
                    "spinning thread on the other CPU) and wake (a sleeping thread on the\n"
                    "idle other CPU woken by an event). Prints FLOOR <name> <median_ns>\n"
                    "<min_ns> <samples>. SAMPLES defaults to 2000.\n");
        return 0;
    }
    int n = 2000;
    if (argc > 1) {
        char* end = nullptr;
        long v = std::strtol(argv[1], &end, 10);
        if (*end != '\0' || v < 1 || v > 1000000) {
            std::fprintf(stderr, "pciem-bench-floors: SAMPLES must be 1..1000000, not '%s'\n", argv[1]);
            return 2;
        }
        n = int(v);
    }
    syscall_floor(0, n);
    copy_floor(0, n);
    notice_floor(0, 1, n * 5);
    wake_floor(0, 1, n, 50);
    return 0;
}
