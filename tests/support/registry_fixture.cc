#include "support/registry_fixture.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "support/free_port.h"

namespace trainyard::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";
constexpr char kHtpasswdBinary[] = "/usr/bin/htpasswd";

std::string Tail(const std::string& text, size_t bytes = 4000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63],
                       kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

bool WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

std::unique_ptr<RegistryServer> shared;
std::string unavailable_reason;
std::once_flag started;

class RegistryEnvironment : public ::testing::Environment {
 public:
  // Stopped while the process is whole, not by a static destructor.
  void TearDown() override { shared.reset(); }
};
::testing::Environment* const kRegistryEnvironment =
    ::testing::AddGlobalTestEnvironment(new RegistryEnvironment);

}  // namespace

RegistryServer::~RegistryServer() {
  if (process_) {
    process_->Signal(SIGTERM);
    process_->Wait(std::chrono::seconds(10));
  }
}

std::string RegistryServer::Start() {
  for (const char* binary : {kRegistryBinary, kHtpasswdBinary, "/usr/bin/openssl"}) {
    if (::access(binary, X_OK) != 0) {
      return std::string("no ") + binary +
             " (Debian's docker-registry, apache2-utils and openssl; scripts/install-deps.sh "
             "installs them)";
    }
  }
  temp_ = std::make_unique<TempDir>();
  const fs::path& dir = temp_->path();
  std::random_device random;
  password_ = "pw-" + std::to_string(random()) + std::to_string(random());

  ProcessResult htpasswd = RunProcess(
      {kHtpasswdBinary, "-B", "-b", "-c", (dir / "htpasswd").string(), user_, password_});
  if (htpasswd.exit_code != 0) return "htpasswd failed: " + htpasswd.output;
  certificate_ = dir / "registry.crt";
  ProcessResult certificate =
      RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                  "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                  (dir / "registry.key").string(), "-out", certificate_.string()});
  if (certificate.exit_code != 0)
    return "openssl could not make a certificate: " + certificate.output;

  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int port = FreeLoopbackPort();
    host_ = "127.0.0.1:" + std::to_string(port);
    std::ostringstream config;
    config << "version: 0.1\n"
           << "log:\n  level: info\n  accesslog:\n    disabled: false\n"
           << "storage:\n  filesystem:\n    rootdirectory: " << (dir / "storage").string() << "\n"
           << "  delete:\n    enabled: true\n"
           << "http:\n  addr: " << host_ << "\n  secret: " << password_ << "\n"
           << "  tls:\n    certificate: " << certificate_.string()
           << "\n    key: " << (dir / "registry.key").string() << "\n"
           << "auth:\n  htpasswd:\n    realm: trainyard-test\n    path: "
           << (dir / "htpasswd").string() << "\n";
    if (!WriteText(dir / "config.yml", config.str())) return "cannot write the registry config";
    // Asked to stop (SIGTERM) if the thread that started it ends without stopping it.
    process_ = std::make_unique<Process>(std::vector<std::string>{"setpriv", "--pdeathsig", "TERM",
                                                                  "--", kRegistryBinary, "serve",
                                                                  (dir / "config.yml").string()});
    auto deadline = steady_clock::now() + std::chrono::seconds(30);
    bool up = false;
    while (steady_clock::now() < deadline && !up) {
      up = Accepts(port);
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (!up && ::kill(process_->pid(), 0) != 0) break;
    }
    if (up) break;
    last_error = "docker-registry did not listen on " + host_ + ": " + Tail(Log());
    process_.reset();
  }
  if (!process_) return last_error;

  auth_file_ = WriteAuthFile(dir / "auth.json", user_, password_);
  registries_conf_ = dir / "registries.conf";
  if (!WriteText(registries_conf_,
                 "# The test registry: TLS with a self-signed certificate, hence insecure.\n"
                 "[[registry]]\nlocation = \"" +
                     host_ + "\"\ninsecure = true\n")) {
    return "cannot write registries.conf";
  }
  // Answers with 200 to its credentials and 401 without: basic auth is on.
  ProcessResult anonymous = RunProcess(
      {"curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "https://" + host_ + "/v2/"});
  ProcessResult signed_in =
      RunProcess({"curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "-u",
                  user_ + ":" + password_, "https://" + host_ + "/v2/"});
  if (anonymous.output != "401" || signed_in.output != "200") {
    return "docker-registry on " + host_ + " answered " + anonymous.output + " without and " +
           signed_in.output + " with credentials: " + Tail(Log());
  }
  return "";
}

fs::path RegistryServer::WriteAuthFile(const fs::path& path, const std::string& user,
                                       const std::string& password) const {
  std::string text =
      "{\"auths\": {\"" + host_ + "\": {\"auth\": \"" + Base64(user + ":" + password) + "\"}}}\n";
  if (!WriteText(path, text)) ADD_FAILURE() << "cannot write " << path;
  ::chmod(path.c_str(), 0600);
  return path;
}

std::map<std::string, std::string> RegistryServer::PodmanEnvironment() const {
  return {{"CONTAINERS_REGISTRIES_CONF", registries_conf_.string()},
          {"CONTAINERS_CONF",
           (SourceDir() / "src" / "executor" / "container" / "containers.conf").string()}};
}

std::string RegistryServer::Log() const {
  return process_ ? process_->OutputSoFar() : "";
}

int RegistryServer::ManifestDownloads(const std::string& repository) const {
  std::istringstream lines(Log());
  const std::string request = "\"GET /v2/" + repository + "/manifests/";
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    size_t at = line.find(request);
    if (at == std::string::npos) continue;
    size_t close = line.find('"', at + 1);
    if (close != std::string::npos && line.compare(close, 6, "\" 200 ") == 0) ++count;
  }
  return count;
}

std::string RegistryServer::ManifestDigest(const std::string& repository,
                                           const std::string& tag) const {
  ProcessResult head = RunProcess({"curl", "-skI", "-u", user_ + ":" + password_, "-H",
                                   "Accept: application/vnd.oci.image.manifest.v1+json, "
                                   "application/vnd.docker.distribution.manifest.v2+json",
                                   "https://" + host_ + "/v2/" + repository + "/manifests/" + tag});
  std::istringstream lines(head.output);
  for (std::string line; std::getline(lines, line);) {
    std::string lowered = line;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lowered.rfind("docker-content-digest:", 0) != 0) continue;
    std::string digest = line.substr(line.find(':') + 1);
    while (!digest.empty() && (digest.front() == ' ')) digest.erase(0, 1);
    while (!digest.empty() && std::isspace(static_cast<unsigned char>(digest.back()))) {
      digest.pop_back();
    }
    return digest;
  }
  ADD_FAILURE() << "no digest for " << repository << ":" << tag << ": " << head.output;
  return "";
}

RegistryServer* SharedRegistry() {
  std::call_once(started, [] {
    std::unique_ptr<RegistryServer> server(new RegistryServer());
    unavailable_reason = server->Start();
    if (unavailable_reason.empty()) {
      shared = std::move(server);
    } else {
      std::fprintf(stderr, "[registry fixture] unavailable: %s\n", unavailable_reason.c_str());
    }
  });
  return shared.get();
}

std::string RegistryUnavailableReason() {
  return unavailable_reason;
}

}  // namespace trainyard::testing
