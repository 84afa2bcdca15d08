// SPDX-License-Identifier: MIT
#include "live_view.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>
#include <microhttpd.h>

namespace pciem::picture {

namespace {

constexpr auto watch_window = std::chrono::seconds(5);
constexpr auto long_poll = std::chrono::seconds(20);

// The page: the current frame as an <img> at the top left, 1:1 (so a
// screenshot of the page is the picture), swapped for the next frame
// as soon as /wait says there is one.
constexpr const char* page_template = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
html, body {{ margin: 0; padding: 0; background: #202020; }}
#screen {{ display: block; image-rendering: pixelated; }}
#info {{ color: #b0b0b0; font: 12px sans-serif; padding: 4px; }}
</style></head>
<body><img id="screen" src="/frame.png?g={generation}" alt="scanout">
<div id="info">{title}: live</div>
<script>
let generation = {generation};
async function follow() {{
  for (;;) {{
    try {{
      const r = await fetch('/wait?after=' + generation, {{ cache: 'no-store' }});
      const g = parseInt(await r.text(), 10);
      if (g !== generation) {{
        const next = new Image();
        next.src = '/frame.png?g=' + g;
        await next.decode();
        document.getElementById('screen').src = next.src;
        generation = g;
        document.getElementById('info').textContent = '{title}: frame ' + g;
      }}
    }} catch (e) {{
      document.getElementById('info').textContent = '{title}: disconnected';
      await new Promise(done => setTimeout(done, 1000));
    }}
  }}
}}
follow();
</script></body></html>
)";

MHD_Result answer(MHD_Connection* connection, unsigned status, const void* data, size_t len,
                  const char* type) {
    MHD_Response* r =
        MHD_create_response_from_buffer(len, const_cast<void*>(data), MHD_RESPMEM_MUST_COPY);
    if (r == nullptr) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    const MHD_Result ret = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return ret;
}

MHD_Result on_request(void* cls, MHD_Connection* connection, const char* url, const char* method,
                      const char*, const char*, size_t*, void**) {
    if (std::string_view(method) != "GET") {
        static const char msg[] = "only GET\n";
        return answer(connection, MHD_HTTP_METHOD_NOT_ALLOWED, msg, sizeof(msg) - 1, "text/plain");
    }
    return static_cast<MHD_Result>(static_cast<LiveView*>(cls)->handle_request(connection, url));
}

} // namespace

LiveView::LiveView(Options options, Source source)
    : options_(std::move(options)), source_(std::move(source)) {}

Result<std::unique_ptr<LiveView>> LiveView::start(Options options, Source source) {
    std::unique_ptr<LiveView> view(new LiveView(std::move(options), std::move(source)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(view->options_.port);
    if (inet_pton(AF_INET, view->options_.address.c_str(), &addr.sin_addr) != 1) {
        return fail(EINVAL,
                    fmt::format("live view: '{}' is not an IPv4 address", view->options_.address));
    }
    view->sample(); // generation 1 exists before the first request
    // A thread per connection: /wait blocks its connection's thread only.
    view->daemon_ = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, view->options_.port,
        nullptr, nullptr, on_request, view.get(), MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (view->daemon_ == nullptr) {
        return fail(EADDRINUSE,
                    fmt::format("live view: cannot listen on {}:{} (in use, or not an address "
                                "of this machine); choose another --http-port",
                                view->options_.address, view->options_.port));
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(view->daemon_, MHD_DAEMON_INFO_BIND_PORT);
    view->port_ = info != nullptr ? info->port : view->options_.port;
    view->sampler_ = std::thread([v = view.get()] { v->sample_loop(); });
    return view;
}

LiveView::~LiveView() {
    {
        std::lock_guard lk(mutex_);
        quit_ = true;
    }
    changed_.notify_all();
    watched_.notify_all();
    if (daemon_ != nullptr) {
        MHD_stop_daemon(daemon_);
    }
    if (sampler_.joinable()) {
        sampler_.join();
    }
}

uint64_t LiveView::generation() const {
    std::lock_guard lk(mutex_);
    return generation_;
}

void LiveView::touch() {
    bool wake;
    {
        std::lock_guard lk(mutex_);
        const auto now = std::chrono::steady_clock::now();
        wake = now - last_request_ > watch_window;
        last_request_ = now;
    }
    if (wake) {
        watched_.notify_all();
    }
}

bool LiveView::watched_locked() const {
    return waiting_ > 0 || std::chrono::steady_clock::now() - last_request_ < watch_window;
}

void LiveView::sample() {
    Picture p = source_();
    {
        std::lock_guard lk(mutex_);
        if (generation_ != 0 && p == last_) {
            return;
        }
    }
    auto png = encode_png(p);
    if (!png) {
        return;
    }
    {
        std::lock_guard lk(mutex_);
        last_ = std::move(p);
        png_ = std::move(*png);
        ++generation_;
    }
    changed_.notify_all();
}

void LiveView::sample_loop() {
    std::unique_lock lk(mutex_);
    auto next = std::chrono::steady_clock::now();
    while (!quit_) {
        watched_.wait(lk, [&] { return quit_ || watched_locked(); });
        if (quit_) {
            break;
        }
        lk.unlock();
        sample();
        lk.lock();
        next = std::max(next + options_.sample_period, std::chrono::steady_clock::now());
        changed_.wait_until(lk, next, [&] { return quit_; });
    }
}

int LiveView::handle_request(MHD_Connection* connection, const std::string& url) {
    touch();
    if (url == "/" || url == "/frame.png") {
        // What a viewer opens shows the screen as it is now, not as the
        // sampler last saw it (it may have been asleep, nobody watching).
        sample();
    }
    if (url == "/") {
        std::string page;
        {
            std::lock_guard lk(mutex_);
            page = fmt::format(fmt::runtime(page_template), fmt::arg("title", options_.title),
                               fmt::arg("generation", generation_));
        }
        return answer(connection, MHD_HTTP_OK, page.data(), page.size(),
                      "text/html; charset=utf-8");
    }
    if (url == "/frame.png") {
        std::vector<uint8_t> png;
        {
            std::lock_guard lk(mutex_);
            png = png_;
        }
        return answer(connection, MHD_HTTP_OK, png.data(), png.size(), "image/png");
    }
    if (url == "/wait") {
        const char* after = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "after");
        const uint64_t seen = after != nullptr ? std::strtoull(after, nullptr, 10) : 0;
        std::string text;
        {
            std::unique_lock lk(mutex_);
            ++waiting_;
            watched_.notify_all();
            changed_.wait_for(lk, long_poll, [&] { return quit_ || generation_ > seen; });
            --waiting_;
            last_request_ = std::chrono::steady_clock::now();
            text = std::to_string(generation_);
        }
        return answer(connection, MHD_HTTP_OK, text.data(), text.size(), "text/plain");
    }
    static const char missing[] = "not found\n";
    return answer(connection, MHD_HTTP_NOT_FOUND, missing, sizeof(missing) - 1, "text/plain");
}

} // namespace pciem::picture
