// SPDX-License-Identifier: MIT
#include "watch.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "commands.hpp"
#include "pciem/unique_fd.hpp"

namespace pciemctl {

std::string command_text(const std::vector<std::string>& command) {
    std::string out;
    for (const auto& a : command) {
        const bool plain = !a.empty() && a.find_first_of(" \t'\"$\\*?;&|<>()") == std::string::npos;
        out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
    }
    return out;
}

int command_outcome(const std::vector<std::string>& command, const WatchEnd& end) {
    if (command.empty() || end.command_status == 0) {
        return exit_ok;
    }
    fmt::print(stderr, "pciemctl: {} exited with status {}\n", command_text(command),
               end.command_status);
    return exit_runtime_error;
}

pciem::Result<WatchEnd> watch(int fd, const std::vector<std::string>& command, double duration_s,
                              int poll_ms, const std::function<bool()>& drain) {
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, &old) != 0) {
        return pciem::fail(errno, "cannot block signals");
    }
    pciem::UniqueFd sfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!sfd.valid()) {
        const int e = errno;
        sigprocmask(SIG_SETMASK, &old, nullptr);
        return pciem::fail(e, fmt::format("signalfd: {}", std::strerror(e)));
    }
    pid_t child = -1;
    if (!command.empty()) {
        std::fflush(stdout);
        std::fflush(stderr);
        child = fork();
        if (child < 0) {
            const int e = errno;
            sigprocmask(SIG_SETMASK, &old, nullptr);
            return pciem::fail(
                e, fmt::format("cannot start {}: {}", command_text(command), std::strerror(e)));
        }
        if (child == 0) {
            sigprocmask(SIG_SETMASK, &old, nullptr);
            std::vector<char*> argv;
            for (const auto& a : command) {
                argv.push_back(const_cast<char*>(a.c_str()));
            }
            argv.push_back(nullptr);
            execvp(argv[0], argv.data());
            fmt::print(stderr, "pciemctl: cannot run {}: {}\n", command[0], std::strerror(errno));
            _exit(127);
        }
    }
    using clock = std::chrono::steady_clock;
    const auto deadline =
        clock::now() + std::chrono::duration_cast<clock::duration>(
                           std::chrono::duration<double>(duration_s > 0 ? duration_s : 0));
    WatchEnd end;
    bool done = false;
    while (!done) {
        int wait_ms = poll_ms;
        if (duration_s > 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now())
                    .count();
            if (left <= 0) {
                end.why = WatchEnd::Why::duration;
                break;
            }
            wait_ms = static_cast<int>(std::min<long long>(left, poll_ms));
        }
        pollfd p[2] = {{fd, POLLIN, 0}, {sfd.get(), POLLIN, 0}};
        const int n = poll(p, 2, wait_ms);
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (!drain()) {
            end.why = WatchEnd::Why::source_ended;
            done = true;
        }
        signalfd_siginfo si{};
        while (read(sfd.get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
            if (si.ssi_signo == SIGCHLD) {
                continue; // reaped below
            }
            if (child > 0) {
                kill(child, static_cast<int>(si.ssi_signo)); // it ends the watch when it exits
            } else {
                end.why = WatchEnd::Why::signal;
                end.signal = static_cast<int>(si.ssi_signo);
                done = true;
            }
        }
        if (child > 0) {
            int status = 0;
            if (waitpid(child, &status, WNOHANG) == child) {
                child = -1;
                end.command_status =
                    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                if (!done) {
                    end.why = WatchEnd::Why::command_done;
                }
                done = true;
            }
        }
    }
    if (child > 0) {
        // The source ended first: the command still runs; wait for it.
        int status = 0;
        if (waitpid(child, &status, 0) == child) {
            end.command_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    }
    sfd.reset();
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return end;
}

} // namespace pciemctl
