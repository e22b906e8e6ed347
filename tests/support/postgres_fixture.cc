#include "support/postgres_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/free_port.h"

namespace trainyard::testing {
namespace {
namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr char kUser[] = "trainyard";  // the cluster's superuser, made by initdb

// Debian's postgresql-15 keeps its server binaries here, outside PATH;
// $TRAINYARD_POSTGRES_BIN_DIR points elsewhere (another build of PostgreSQL 15).
fs::path ServerBinDir() {
  if (const char* dir = std::getenv("TRAINYARD_POSTGRES_BIN_DIR"); dir != nullptr && *dir) {
    return dir;
  }
  return "/usr/lib/postgresql/15/bin";
}

std::string Tail(const std::string& text, size_t bytes = 4000) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

// argv prefixed so that it runs as `run_as` (setpriv), and so that it is asked to stop (SIGINT:
// PostgreSQL's fast shutdown) if the thread that started it ends without stopping it.
std::vector<std::string> AsUser(const std::string& run_as, std::vector<std::string> argv) {
  std::vector<std::string> full = {"setpriv", "--pdeathsig", "INT"};
  if (!run_as.empty()) {
    size_t colon = run_as.find(':');
    full.insert(full.end(), {"--reuid=" + run_as.substr(0, colon),
                             "--regid=" + run_as.substr(colon + 1), "--clear-groups"});
  }
  full.push_back("--");
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

std::string ChangeOwner(const fs::path& path, const std::string& run_as) {
  if (run_as.empty()) return "";
  ProcessResult chown = RunProcess({"chown", "-R", run_as, path.string()});
  return chown.exit_code == 0 ? "" : "chown " + path.string() + ": " + chown.output;
}

// The cluster as initdb makes it, kept in the build dir for the next binaries (initdb costs a
// few seconds; a copy, a tenth of one). Made under a lock: ctest may run binaries at once.
std::string CopyInitializedCluster(const fs::path& bin_dir, const std::string& run_as,
                                   const fs::path& scratch, const fs::path& data_dir) {
  auto initdb = [&](const fs::path& target) -> std::string {
    std::error_code error;
    fs::create_directories(target, error);
    if (std::string failed = ChangeOwner(target, run_as); !failed.empty()) return failed;
    ProcessResult made = RunProcess(
        AsUser(run_as, {(bin_dir / "initdb").string(), "-D", target.string(), "-U", kUser,
                        "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"}),
        {}, std::chrono::seconds(120));
    if (made.exit_code != 0) return "initdb failed: " + Tail(made.output);
    return "";
  };

  fs::path cache = BuildDir() / "postgres-15-cluster";
  std::string lock_path = (BuildDir() / "postgres-15-cluster.lock").string();
  int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (lock < 0) return initdb(data_dir);  // a read-only build dir: no cache, initdb each time
  ::flock(lock, LOCK_EX);
  std::string failed;
  if (!fs::exists(cache / "PG_VERSION")) {
    // initdb in the scratch dir (the unprivileged user may not reach the build dir), then
    // copied into place whole.
    fs::path made = scratch / "initdb";
    failed = initdb(made);
    std::error_code ignored;
    fs::remove_all(cache, ignored);
    if (failed.empty()) {
      ProcessResult copy = RunProcess({"cp", "-a", made.string(), cache.string()});
      if (copy.exit_code != 0) failed = "cp: " + copy.output;
    }
    fs::remove_all(made, ignored);
  }
  if (failed.empty()) {
    ProcessResult copy = RunProcess({"cp", "-a", cache.string(), data_dir.string()});
    if (copy.exit_code != 0) failed = "cp: " + copy.output;
  }
  ::flock(lock, LOCK_UN);
  ::close(lock);
  if (failed.empty()) failed = ChangeOwner(data_dir, run_as);
  return failed;
}

std::string Conninfo(int port, const std::string& database) {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port) + "/" +
         database;
}

std::unique_ptr<PostgresServer> shared;
std::string unavailable_reason;
std::once_flag started;

class PostgresEnvironment : public ::testing::Environment {
 public:
  // Stopped while the process is whole, not by a static destructor.
  void TearDown() override { shared.reset(); }
};
::testing::Environment* const kPostgresEnvironment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

PostgresServer* SharedPostgres() {
  std::call_once(started, [] {
    fs::path bin_dir = ServerBinDir();
    for (const char* binary : {"initdb", "postgres"}) {
      if (::access((bin_dir / binary).c_str(), X_OK) != 0) {
        unavailable_reason = "PostgreSQL 15 is not installed: no " + (bin_dir / binary).string() +
                             " (Debian's postgresql-15; scripts/install-deps.sh installs it)";
        return;
      }
    }
    std::string run_as;
    if (::geteuid() == 0) {
      // PostgreSQL refuses to run as root.
      const passwd* nobody = ::getpwnam("nobody");
      if (nobody == nullptr) {
        unavailable_reason = "running as root and there is no user 'nobody' to run PostgreSQL as";
        return;
      }
      run_as = std::to_string(nobody->pw_uid) + ":" + std::to_string(nobody->pw_gid);
    }
    std::unique_ptr<PostgresServer> server(new PostgresServer());
    server->bin_dir_ = bin_dir;
    server->run_as_ = run_as;
    server->temp_ = std::make_unique<TempDir>();
    // The unprivileged user must reach its directories inside the temp dir.
    fs::permissions(server->temp_->path(),
                    fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    server->data_dir_ = server->temp_->path() / "data";
    server->socket_dir_ = server->temp_->path() / "socket";
    fs::create_directories(server->socket_dir_);
    std::string failed = ChangeOwner(server->socket_dir_, run_as);
    if (failed.empty()) {
      failed = CopyInitializedCluster(bin_dir, run_as, server->temp_->path(), server->data_dir_);
    }
    if (failed.empty()) server->MakeTlsCertificate();
    if (failed.empty()) failed = server->StartError();
    if (!failed.empty()) {
      // Installed but failing is a failure of the test, not a reason to skip it.
      ADD_FAILURE() << "PostgreSQL 15 did not start: " << failed;
      unavailable_reason = "PostgreSQL 15 did not start: " + failed;
      return;
    }
    shared = std::move(server);
  });
  return shared.get();
}

std::string PostgresUnavailableReason() {
  return unavailable_reason;
}

std::vector<std::string> PostgresServer::ServerArgv() const {
  std::vector<std::string> argv = {
      (bin_dir_ / "postgres").string(), "-D", data_dir_.string(), "-p", std::to_string(port_), "-k",
      socket_dir_.string(), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
      // Durability is not under test: a test's data lives as long as its run.
      "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c",
      "shared_buffers=32MB"};
  if (!tls_certificate_.empty()) {
    fs::path key = tls_certificate_.parent_path() / "server.key";
    argv.insert(argv.end(), {"-c", "ssl=on", "-c", "ssl_cert_file=" + tls_certificate_.string(),
                             "-c", "ssl_key_file=" + key.string()});
  }
  return AsUser(run_as_, argv);
}

void PostgresServer::MakeTlsCertificate() {
  // Self-signed for 127.0.0.1, so that sslmode=verify-full with this file as the root passes.
  fs::path dir = temp_->path() / "tls";
  fs::create_directories(dir);
  ProcessResult made =
      RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                  "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                  (dir / "server.key").string(), "-out", (dir / "server.crt").string()});
  if (made.exit_code != 0) {
    std::fprintf(stderr, "PostgreSQL runs without TLS: openssl could not make a certificate: %s\n",
                 Tail(made.output).c_str());
    return;
  }
  fs::permissions(dir / "server.key", fs::perms::owner_read | fs::perms::owner_write);
  if (!ChangeOwner(dir, run_as_).empty()) return;
  tls_certificate_ = dir / "server.crt";
}

std::string PostgresServer::StartError() {
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreeLoopbackPort();
    if (port_ == 0) return "no free loopback port";
    process_ = std::make_unique<Process>(ServerArgv());
    std::string conninfo = Conninfo(port_, "postgres") + "?connect_timeout=2";
    auto deadline = steady_clock::now() + std::chrono::seconds(60);
    while (steady_clock::now() < deadline) {
      if (PQping(conninfo.c_str()) == PQPING_OK) return "";
      int status = 0;
      if (::waitpid(process_->pid(), &status, WNOHANG) == process_->pid()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    last_error = "postgres on port " + std::to_string(port_) + " not ready: " + Tail(Log());
    process_->Signal(SIGKILL);
    process_->Wait(std::chrono::seconds(10));
    if (last_error.find("could not bind") == std::string::npos &&
        last_error.find("in use") == std::string::npos) {
      break;  // not a port taken meanwhile: another try would fail the same way
    }
  }
  return last_error;
}

void PostgresServer::Stop() {
  if (!process_) return;
  process_->Signal(SIGINT);  // fast shutdown: open sessions are ended
  ProcessResult ended = process_->Wait(std::chrono::seconds(30));
  if (ended.exit_code != 0) {
    std::fprintf(stderr, "postgres exited with %d: %s\n", ended.exit_code,
                 Tail(ended.output).c_str());
  }
  process_.reset();
}

PostgresServer::~PostgresServer() {
  Stop();
}

bool PostgresServer::Restart() {
  Stop();
  int port = port_;
  process_ = std::make_unique<Process>(ServerArgv());
  std::string conninfo = Conninfo(port, "postgres") + "?connect_timeout=2";
  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while (steady_clock::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "PostgreSQL did not come back on port " << port << ": " << Tail(Log());
  return false;
}

std::string PostgresServer::AdminUrl() const {
  return Conninfo(port_, "postgres");
}

std::string PostgresServer::Log() const {
  return process_ ? process_->OutputSoFar() : "";
}

std::string PostgresServer::CreateDatabase() {
  static std::mutex mu;
  std::string name;
  {
    std::lock_guard lock(mu);
    name = "test_" + std::to_string(++databases_);
  }
  PGconn* connection = PQconnectdb(AdminUrl().c_str());
  std::string error;
  if (PQstatus(connection) != CONNECTION_OK) {
    error = PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, ("CREATE DATABASE " + name).c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK) error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(connection);
  if (!error.empty()) {
    ADD_FAILURE() << "CREATE DATABASE " << name << ": " << error;
    return "";
  }
  return Conninfo(port_, name);
}

}  // namespace trainyard::testing
