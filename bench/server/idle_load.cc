// bench_idle_load: the load generator of bench/server/idle_connections.sh. Opens `--idle`
// connections that send nothing and `--slow` connections that send half a request header, all
// from `--source` (127.0.0.2: Linux routes all of 127/8 to lo), holds them, and meanwhile calls
// each `--path` in turn from 127.0.0.1, one new connection per request ("Connection: close"),
// for `--duration` seconds. Prints key=value lines: each path's answer latency (p50, p99, max),
// how many attackers the server still holds open at the end (neither answered nor closed), and
// the server's threads and resident memory (/proc/PID/status of `--server-pid`).
//
//   bench_idle_load --port 8080 --path /healthz --path /api/v1/sweeps --bearer TOKEN
//                   --idle 5000 --slow 500 --duration 10 --server-pid 1234
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  std::string source = "127.0.0.2";
  int idle = 0;
  int slow = 0;
  double duration = 10;
  std::vector<std::string> paths;
  std::string bearer;
  int server_pid = 0;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "bench_idle_load: %s\nusage: bench_idle_load --port P [--path P]... [--bearer T] "
               "[--idle N] [--slow N] [--source ADDR] [--duration S] [--server-pid PID]\n",
               why);
  std::exit(2);
}

Options Parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) Usage(("missing value of " + flag).c_str());
    std::string value = argv[++i];
    if (flag == "--port")
      options.port = std::atoi(value.c_str());
    else if (flag == "--source")
      options.source = value;
    else if (flag == "--idle")
      options.idle = std::atoi(value.c_str());
    else if (flag == "--slow")
      options.slow = std::atoi(value.c_str());
    else if (flag == "--duration")
      options.duration = std::atof(value.c_str());
    else if (flag == "--path")
      options.paths.push_back(value);
    else if (flag == "--bearer")
      options.bearer = value;
    else if (flag == "--server-pid")
      options.server_pid = std::atoi(value.c_str());
    else
      Usage(("unknown flag " + flag).c_str());
  }
  if (options.port <= 0) Usage("--port is required");
  if (options.paths.empty()) options.paths.push_back("/healthz");
  return options;
}

int Connect(const char* source, int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&remote), sizeof(remote)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// One request on a new connection; its status (0: no answer) and latency.
int Request(int port, const std::string& path, const std::string& bearer, double* seconds) {
  auto start = Clock::now();
  int status = 0;
  int fd = Connect("127.0.0.1", port);
  if (fd >= 0) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
    if (!bearer.empty()) request += "Authorization: Bearer " + bearer + "\r\n";
    request += "\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      std::string answer;
      char buffer[16384];
      for (;;) {
        pollfd pfd{fd, POLLIN, 0};
        if (poll(&pfd, 1, 10000) <= 0) break;
        ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) break;
        answer.append(buffer, static_cast<size_t>(n));
      }
      if (answer.rfind("HTTP/1.1 ", 0) == 0) status = std::atoi(answer.c_str() + 9);
    }
    close(fd);
  }
  *seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return status;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

std::string StatusField(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) {
      std::string value = line.substr(name.size() + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value.substr(0, value.find(' '));
    }
  }
  return "unknown";
}

std::string MetricName(const std::string& path) {
  std::string name;
  for (char c : path) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return name;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = Parse(argc, argv);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  std::vector<int> attackers;
  int failed = 0;
  for (int i = 0; i < options.idle + options.slow; ++i) {
    int fd = Connect(options.source.c_str(), options.port);
    if (fd < 0) {
      failed++;
      continue;
    }
    if (i >= options.idle) {
      const char half[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a";
      if (send(fd, half, sizeof(half) - 1, MSG_NOSIGNAL) < 0) failed++;
    }
    attackers.push_back(fd);
  }
  std::printf("attackers_opened %zu\nattackers_failed %d\n", attackers.size(), failed);

  std::map<std::string, std::vector<double>> latencies;
  std::map<std::string, int> errors;
  auto end = Clock::now() + std::chrono::duration<double>(options.duration);
  for (size_t i = 0; Clock::now() < end; ++i) {
    const std::string& path = options.paths[i % options.paths.size()];
    double seconds = 0;
    int status = Request(options.port, path, options.bearer, &seconds);
    if (status == 200) {
      latencies[path].push_back(seconds * 1000);
    } else {
      errors[path]++;
    }
  }
  for (const std::string& path : options.paths) {
    std::string name = MetricName(path);
    const auto& values = latencies[path];
    std::printf("%s_ok %zu\n%s_errors %d\n", name.c_str(), values.size(), name.c_str(),
                errors[path]);
    std::printf("%s_p50_ms %.2f\n%s_p99_ms %.2f\n%s_max_ms %.2f\n", name.c_str(),
                Percentile(values, 0.5), name.c_str(), Percentile(values, 0.99), name.c_str(),
                values.empty() ? 0.0 : *std::max_element(values.begin(), values.end()));
  }
  int held = 0;
  for (int fd : attackers) {
    pollfd pfd{fd, POLLIN, 0};
    held += poll(&pfd, 1, 0) == 0;
  }
  std::printf("attackers_held %d\n", held);
  if (options.server_pid > 0) {
    std::printf("server_threads %s\nserver_rss_kb %s\n",
                StatusField(options.server_pid, "Threads").c_str(),
                StatusField(options.server_pid, "VmRSS").c_str());
  }
  for (int fd : attackers) close(fd);
  return 0;
}
