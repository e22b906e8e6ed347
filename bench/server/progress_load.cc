// bench_progress_load: load generator for bench/server/progress_ingest.sh.
//
// Holds N server-sent-event clients open (GET EVENTS_PATH with the server token), then sends
// requests (the progress callback POST, or GET /healthz as a peer) on C keep-alive connections
// for D seconds, as fast as answers come back or paced to RATE requests/s. Each POST body carries
// "bench_sent_ns" (CLOCK_REALTIME) in its progress object; the SSE clients find that field in
// what they receive and record receive - sent (delivery latency) for every event on the first
// SAMPLED clients, and count the events of every client. With --ws-job JOB the clients are
// GraphQL subscribers instead: each upgrades EVENTS_PATH (/graphql) to a WebSocket
// (graphql-transport-ws), sends connection_init with the server token and subscribes to
// jobUpdates(job: JOB) { type progress }; the progress in each `next` carries the same field.
//
// Several servers (replicas, `--port` repeated): connection i, and SSE client i, go to the i-th
// port round-robin. Many targets (`--targets FILE`, one request a line: PATH, then the bearer
// token and the job name, tab-separated, "-" for none): target j belongs to connection j % C,
// which cycles over its own targets, so that one job's progress sequences go out in order on one
// connection (with fewer targets than connections, connection i sends target i % N).
//
// Plain sockets and two epoll threads (senders, SSE readers); no dependencies. Linux only.
// Prints one "key value" line per figure.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Target {
  std::string path;
  std::string bearer;    // Authorization for the request (the job token, or the server token)
  std::string job_name;  // in the POST body
};

struct Options {
  std::string host = "127.0.0.1";
  std::vector<int> ports;  // requests and SSE clients go round-robin over these
  std::string method = "POST";
  std::string path;          // the request path
  std::string bearer;        // Authorization for the requests (the job token)
  std::string job_name;      // in the POST body
  std::string targets_file;  // one Target a line, instead of path, bearer and job
  std::vector<Target> targets;
  std::string sse_path = "/api/v1/events";
  std::string sse_bearer;  // the server token
  std::string ws_job;      // not empty: GraphQL subscribers of this job's updates, not SSE
  int clients = 0;
  int sampled = 20;
  int connections = 8;
  double duration = 10;
  double rate = 0;   // requests per second; 0 = as fast as answers come
  double drain = 2;  // seconds to wait for deliveries after the last request
};

int64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}
int64_t Realtime() {
  return NowNs(CLOCK_REALTIME);
}
int64_t Monotonic() {
  return NowNs(CLOCK_MONOTONIC);
}

int Connect(const Options& o, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// ---- SSE clients -------------------------------------------------------------------------------
struct SseClient {
  int fd = -1;
  bool websocket = false;  // a GraphQL subscriber: 101, then the init and subscribe messages
  bool headers = false;
  bool open = true;
  int status = 0;
  int64_t events = 0;          // "bench_sent_ns" occurrences seen
  int64_t newest_sent_ns = 0;  // the newest "bench_sent_ns" seen: has it the latest progress?
  std::string carry;           // an unfinished tail that may hold a split "bench_sent_ns":N
};

std::atomic<bool> g_stop_readers{false};
std::string g_ws_job;    // the job GraphQL subscribers follow
std::string g_ws_token;  // their connection_init token

// A client's WebSocket text frame: masked (RFC 6455), with the all-zero key, which leaves the
// payload as it is.
std::string MaskedTextFrame(const std::string& text) {
  std::string frame(1, static_cast<char>(0x81));
  if (text.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | text.size()));
  } else {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(text.size() >> 8));
    frame.push_back(static_cast<char>(text.size() & 0xFF));
  }
  frame.append(4, '\0');
  return frame + text;
}
std::atomic<int> g_connected{0};

// Counts the events in `data` (and records their latencies when `sample`); returns how much of
// `data` is done with: the rest (a key or number cut off at the end) waits for the next read.
size_t CountEvents(SseClient& c, bool sample, std::string_view data, int64_t received,
                   std::vector<int64_t>& latencies, std::string_view key) {
  size_t pos = 0;
  while (true) {
    size_t at = data.find(key, pos);
    if (at == std::string_view::npos) break;
    size_t p = at + key.size();
    while (p < data.size() && data[p] == ' ') ++p;
    size_t q = p;
    while (q < data.size() && data[q] >= '0' && data[q] <= '9') ++q;
    if (q == data.size()) return at;  // the number may go on in the next read
    ++c.events;
    int64_t sent = std::strtoll(std::string(data.substr(p, q - p)).c_str(), nullptr, 10);
    c.newest_sent_ns = std::max(c.newest_sent_ns, sent);
    if (sample) latencies.push_back(received - sent);
    pos = q;
  }
  // Keep fewer bytes than a whole key, in case one is split between reads.
  size_t tail = data.size() > key.size() - 1 ? data.size() - (key.size() - 1) : 0;
  return std::max(pos, tail);
}

void ReadSse(std::vector<SseClient>& clients, int sampled, std::vector<int64_t>& latencies) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < clients.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev);
  }
  static constexpr std::string_view kKey = "\"bench_sent_ns\":";
  std::vector<char> buffer(1 << 20);
  std::vector<epoll_event> ready(512);
  while (!g_stop_readers.load(std::memory_order_relaxed)) {
    int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
    for (int k = 0; k < n; ++k) {
      SseClient& c = clients[ready[k].data.u64];
      ssize_t got = recv(c.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        c.open = false;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        continue;
      }
      if (got < 0) continue;
      int64_t received = Realtime();
      std::string_view data(buffer.data(), static_cast<size_t>(got));
      std::string joined;
      if (!c.carry.empty()) {
        joined = c.carry + std::string(data);
        data = joined;
      }
      if (!c.headers) {
        size_t end = data.find("\r\n\r\n");
        if (end == std::string_view::npos) {
          c.carry = std::string(data);
          continue;
        }
        if (data.size() > 12) c.status = std::atoi(std::string(data.substr(9, 3)).c_str());
        c.headers = true;
        if (c.websocket && c.status == 101 &&
            !SendAll(c.fd,
                     MaskedTextFrame("{\"type\":\"connection_init\",\"payload\":{\"token\":\"" +
                                     g_ws_token + "\"}}") +
                         MaskedTextFrame("{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":"
                                         "{\"query\":\"subscription { jobUpdates(job: \\\"" +
                                         g_ws_job + "\\\") { type progress } }\"}}"))) {
          c.open = false;
        }
        g_connected.fetch_add(1);
        data.remove_prefix(end + 4);
      }
      size_t i = CountEvents(c, ready[k].data.u64 < static_cast<uint64_t>(sampled), data, received,
                             latencies, kKey);
      c.carry = i < data.size() ? std::string(data.substr(i)) : std::string();
    }
  }
  close(ep);
}

}  // namespace

// ---- request senders ---------------------------------------------------------------------------
namespace {
struct Conn {
  int fd = -1;
  int port = 0;
  std::vector<size_t> targets;  // indexes into Options::targets, sent in turn
  size_t next = 0;
  std::string in;
  bool busy = false;
  int64_t sent_mono = 0;
};

// The store records only sequences above the last one recorded, so each run starts from the
// clock (set in main): a later phase against the same job is not taken for a repeat.
std::atomic<int64_t> g_sequence{1000000000};
// The newest "bench_sent_ns" sent: the latest progress every client should end up with.
std::atomic<int64_t> g_newest_sent_ns{0};

std::string MakeRequest(const Options& o, Conn& c) {
  const Target& t = o.targets[c.targets[c.next++ % c.targets.size()]];
  std::string req = o.method + " " + t.path + " HTTP/1.1\r\nHost: " + o.host + "\r\n";
  if (!t.bearer.empty()) req += "Authorization: Bearer " + t.bearer + "\r\n";
  if (o.method == "POST") {
    int64_t sent_ns = Realtime();
    int64_t newest = g_newest_sent_ns.load();
    while (newest < sent_ns && !g_newest_sent_ns.compare_exchange_weak(newest, sent_ns)) {
    }
    std::string body =
        "{\"schema\":\"trainyard.progress/v1\",\"job_name\":\"" + t.job_name +
        "\",\"sequence\":" + std::to_string(g_sequence.fetch_add(1)) +
        ",\"progress\":{\"progress\":0.5,\"bench_sent_ns\":" + std::to_string(sent_ns) + "}}";
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  } else {
    req += "\r\n";
  }
  return req;
}

// Length of one complete response at the start of `in` (0 if not complete yet); sets status,
// and `closing` when the server closes the connection after it (a proxy such as nginx does after
// keepalive_requests answers on one connection).
size_t ResponseLength(const std::string& in, int& status, bool& closing) {
  size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return 0;
  status = in.size() > 12 ? std::atoi(in.substr(9, 3).c_str()) : 0;
  std::string head = in.substr(0, end);
  for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  closing = head.find("\r\nconnection: close") != std::string::npos;
  size_t cl = head.find("content-length:");
  if (cl != std::string::npos) {
    size_t len = std::strtoull(head.c_str() + cl + 15, nullptr, 10);
    return in.size() >= end + 4 + len ? end + 4 + len : 0;
  }
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    size_t last = in.find("\r\n0\r\n\r\n", end);
    if (last == std::string::npos)
      last = in.find("0\r\n\r\n", end + 4) == end + 4 ? end - 2 : std::string::npos;
    return last == std::string::npos ? 0 : last + 7;
  }
  return end + 4;  // no body
}

struct SendResult {
  int64_t sent = 0, ok = 0, failed = 0, errors = 0;
  std::map<int, int64_t> ok_by_port;
  double seconds = 0;
  std::vector<int64_t> rtt_ns;
};

SendResult RunSenders(const Options& o) {
  SendResult r;
  std::vector<Conn> conns(static_cast<size_t>(o.connections));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns.size(); ++i) {
    conns[i].port = o.ports[i % o.ports.size()];
    if (o.targets.size() >= conns.size()) {
      for (size_t t = i; t < o.targets.size(); t += conns.size()) conns[i].targets.push_back(t);
    } else {
      conns[i].targets.push_back(i % o.targets.size());
    }
    conns[i].fd = Connect(o, conns[i].port);
    if (conns[i].fd < 0) {
      std::fprintf(stderr, "connect failed: %s\n", std::strerror(errno));
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  int64_t start = Monotonic();
  int64_t end = start + static_cast<int64_t>(o.duration * 1e9);
  double interval_ns = o.rate > 0 ? 1e9 / o.rate : 0;
  auto due = [&](int64_t now) {  // may another request go out now (pacing)?
    return interval_ns == 0 || r.sent < static_cast<int64_t>((now - start) / interval_ns) + 1;
  };
  auto fire = [&](Conn& c, int64_t now) {
    if (!SendAll(c.fd, MakeRequest(o, c))) {
      ++r.errors;
      return;
    }
    c.busy = true;
    c.sent_mono = now;
    ++r.sent;
  };
  std::vector<epoll_event> ready(64);
  char buf[65536];
  while (true) {
    int64_t now = Monotonic();
    bool sending = now < end;
    for (Conn& c : conns) {
      if (!sending) break;
      if (!c.busy && due(now)) fire(c, now);
    }
    bool any_busy = std::any_of(conns.begin(), conns.end(), [](const Conn& c) { return c.busy; });
    if (!sending && !any_busy) break;
    int timeout = interval_ns > 0 ? 1 : 100;
    int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), timeout);
    for (int k = 0; k < n; ++k) {
      Conn& c = conns[ready[k].data.u64];
      ssize_t got = recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        std::fprintf(stderr, "request connection closed by the server\n");
        ++r.errors;
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = Connect(o, c.port);
        c.in.clear();
        c.busy = false;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = static_cast<uint64_t>(&c - conns.data());
        if (c.fd >= 0) epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        continue;
      }
      c.in.append(buf, static_cast<size_t>(got));
      int status = 0;
      bool closing = false;
      size_t len;
      while ((len = ResponseLength(c.in, status, closing)) > 0) {
        int64_t t = Monotonic();
        (status >= 200 && status < 300 ? r.ok : r.failed)++;
        if (status >= 200 && status < 300) ++r.ok_by_port[c.port];
        if (r.failed == 1 && !(status >= 200 && status < 300)) {
          std::fprintf(stderr, "first failed answer: %s\n",
                       c.in.substr(0, std::min(len, size_t{400})).c_str());
        }
        r.rtt_ns.push_back(t - c.sent_mono);
        c.in.erase(0, len);
        c.busy = false;
        if (closing) {  // the server said so: the next request goes on a new connection
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          close(c.fd);
          c.in.clear();
          c.fd = Connect(o, c.port);
          if (c.fd < 0) {
            ++r.errors;
            break;
          }
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.u64 = static_cast<uint64_t>(&c - conns.data());
          epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
        }
        if (t < end && due(t)) fire(c, t);
        if (closing) break;
      }
    }
  }
  r.seconds = (Monotonic() - start) / 1e9;
  for (Conn& c : conns) close(c.fd);
  close(ep);
  return r;
}

double Percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i =
      std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return static_cast<double>(v[i]) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  g_sequence = Realtime();
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.ports.push_back(std::atoi(v.c_str()));
    else if (k == "--targets")
      o.targets_file = v;
    else if (k == "--method")
      o.method = v;
    else if (k == "--path")
      o.path = v;
    else if (k == "--bearer")
      o.bearer = v;
    else if (k == "--job")
      o.job_name = v;
    else if (k == "--sse-path")
      o.sse_path = v;
    else if (k == "--sse-bearer")
      o.sse_bearer = v;
    else if (k == "--ws-job")
      o.ws_job = v;
    else if (k == "--clients")
      o.clients = std::atoi(v.c_str());
    else if (k == "--sampled")
      o.sampled = std::atoi(v.c_str());
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (k == "--duration")
      o.duration = std::atof(v.c_str());
    else if (k == "--rate")
      o.rate = std::atof(v.c_str());
    else if (k == "--drain")
      o.drain = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!o.targets_file.empty()) {
    std::ifstream in(o.targets_file);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::istringstream fields(line);
      Target t;
      std::getline(fields, t.path, '\t');
      std::getline(fields, t.bearer, '\t');
      std::getline(fields, t.job_name, '\t');
      if (t.bearer == "-") t.bearer.clear();
      if (t.job_name == "-") t.job_name.clear();
      o.targets.push_back(t);
    }
    if (o.targets.empty()) {
      std::fprintf(stderr, "--targets %s: no targets in it\n", o.targets_file.c_str());
      return 2;
    }
  } else if (!o.path.empty()) {
    o.targets.push_back({o.path, o.bearer, o.job_name});
  }
  bool bad_port = std::any_of(o.ports.begin(), o.ports.end(), [](int p) { return p <= 0; });
  if (o.ports.empty() || bad_port || o.targets.empty() || o.connections < 1) {
    std::fprintf(stderr,
                 "usage: bench_progress_load --port P [--port P2...] (--path PATH [--bearer T] "
                 "[--job NAME] | --targets FILE) [--method POST|GET] "
                 "[--clients N --sse-path P --sse-bearer T --sampled K [--ws-job J]] "
                 "[--connections C] [--duration S] [--rate R] [--drain S]\n");
    return 2;
  }

  g_ws_job = o.ws_job;
  g_ws_token = o.sse_bearer;
  std::vector<SseClient> clients(static_cast<size_t>(o.clients));
  for (size_t i = 0; i < clients.size(); ++i) {
    SseClient& c = clients[i];
    c.fd = Connect(o, o.ports[i % o.ports.size()]);
    if (c.fd < 0) {
      std::fprintf(stderr, "SSE connect failed: %s\n", std::strerror(errno));
      return 1;
    }
    int big = 4 << 20;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    c.websocket = !o.ws_job.empty();
    std::string request =
        c.websocket
            ? "GET " + o.sse_path + " HTTP/1.1\r\nHost: " + o.host +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
            : "GET " + o.sse_path + " HTTP/1.1\r\nHost: " + o.host + "\r\nAuthorization: Bearer " +
                  o.sse_bearer + "\r\nAccept: text/event-stream\r\n\r\n";
    if (!SendAll(c.fd, request)) return 1;
  }
  std::vector<int64_t> latencies;
  latencies.reserve(1 << 22);
  std::thread reader;
  if (o.clients > 0) {
    reader = std::thread([&] { ReadSse(clients, o.sampled, latencies); });
    int64_t deadline = Monotonic() + 60'000'000'000;
    while (g_connected.load() < o.clients && Monotonic() < deadline) usleep(10000);
    usleep(300000);  // let replayed events (if any) pass
  }
  std::printf("sse_clients_connected %d\n", g_connected.load());

  SendResult r = RunSenders(o);
  if (o.clients > 0) {
    usleep(static_cast<useconds_t>(o.drain * 1e6));
    g_stop_readers = true;
    reader.join();
  }
  std::printf("requests_sent %lld\nrequests_ok %lld\nrequests_failed %lld\nerrors %lld\n",
              static_cast<long long>(r.sent), static_cast<long long>(r.ok),
              static_cast<long long>(r.failed), static_cast<long long>(r.errors));
  std::printf("seconds %.3f\nrequests_per_second %.1f\n", r.seconds, r.ok / r.seconds);
  for (const auto& [port, ok] : r.ok_by_port) {
    std::printf("requests_ok_port_%d %lld\n", port, static_cast<long long>(ok));
  }
  std::printf("answer_ms_p50 %.3f\nanswer_ms_p99 %.3f\n", Percentile(r.rtt_ns, 0.5),
              Percentile(r.rtt_ns, 0.99));
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  std::printf("load_generator_cpu_seconds %.2f\n",
              self.ru_utime.tv_sec + self.ru_stime.tv_sec +
                  (self.ru_utime.tv_usec + self.ru_stime.tv_usec) / 1e6);
  if (o.clients > 0) {
    int open = 0, bad_status = 0, with_latest = 0;
    std::vector<int64_t> counts;
    for (SseClient& c : clients) {
      open += c.open;
      with_latest += c.newest_sent_ns == g_newest_sent_ns.load();
      bad_status += c.headers && c.status != (c.websocket ? 101 : 200);
      counts.push_back(c.events);
      close(c.fd);
    }
    std::sort(counts.begin(), counts.end());
    int64_t total = 0;
    for (int64_t n : counts) total += n;
    std::printf("sse_clients_open_at_end %d\nsse_clients_dropped %d\nsse_bad_status %d\n", open,
                o.clients - open, bad_status);
    std::printf("sse_clients_with_latest_progress %d\n", with_latest);
    std::printf("events_per_client_min %lld\nevents_per_client_median %lld\nevents_total %lld\n",
                static_cast<long long>(counts.front()),
                static_cast<long long>(counts[counts.size() / 2]), static_cast<long long>(total));
    std::printf("events_delivered_per_second %.1f\n", total / r.seconds);
    std::vector<int64_t>& lat = latencies;
    std::printf("latency_samples %zu\n", lat.size());
    std::printf(
        "delivery_ms_p50 %.3f\ndelivery_ms_p90 %.3f\ndelivery_ms_p99 %.3f\ndelivery_ms_max %.3f\n",
        Percentile(lat, 0.5), Percentile(lat, 0.9), Percentile(lat, 0.99), Percentile(lat, 1.0));
  }
  return 0;
}
