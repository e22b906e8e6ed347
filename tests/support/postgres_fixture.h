// A real PostgreSQL 15 for tests: Debian's server binaries (postgresql-15), started once per test
// binary on a free loopback port and a private unix socket, as an unprivileged user when the
// test runs as root (PostgreSQL refuses root), with its data in a temporary directory. Each test
// asks for a fresh database of its own.
//
//   PostgresServer* postgres = SharedPostgres();
//   if (postgres == nullptr) GTEST_SKIP() << PostgresUnavailableReason();
//   std::string url = postgres->CreateDatabase();  // postgresql://trainyard@127.0.0.1:PORT/db_3
//
// The cluster is made once per build dir (initdb, a few seconds) and copied for each binary, so
// that a test run by ctest (one process per test) pays only the copy and the start.
//
// Thread-safety: SharedPostgres must first be called from the main thread (the server is asked
// to stop when the thread that started it ends); CreateDatabase may be called from any thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::testing {

class PostgresServer {
 public:
  ~PostgresServer();  // fast shutdown, then the data goes with the temp dir

  // A new, empty database; its URL (TCP on loopback, no password: trust on loopback only).
  // Fails the calling test (and returns "") when PostgreSQL refuses.
  std::string CreateDatabase();

  // The URL of the `postgres` maintenance database, for tests that talk to the server itself.
  std::string AdminUrl() const;
  int port() const { return port_; }
  // The server's self-signed TLS certificate (for 127.0.0.1), to pass as sslrootcert; empty when
  // openssl could not make one and the server runs without TLS.
  const std::filesystem::path& TlsCertificate() const { return tls_certificate_; }
  // The server's own log so far (its stderr).
  std::string Log() const;
  // Stops the server (fast shutdown) and starts it again on the same port and data; false (and a
  // failed test) when it does not come back. For tests of dropped connections.
  bool Restart();

 private:
  friend PostgresServer* SharedPostgres();
  PostgresServer() = default;
  std::vector<std::string> ServerArgv() const;  // postgres on port_, as run_as_
  void MakeTlsCertificate();                    // sets tls_certificate_ when it can
  std::string StartError();                     // empty when started and ready
  void Stop();

  std::unique_ptr<TempDir> temp_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  std::filesystem::path bin_dir_;
  std::string run_as_;  // "UID:GID" of nobody when this process is root, else ""
  int port_ = 0;
  std::filesystem::path tls_certificate_;
  std::unique_ptr<Process> process_;
  int databases_ = 0;
};

// The binary's one server, started on first use; nullptr when it cannot run here, with the
// reason in PostgresUnavailableReason(). Stopped by a gtest Environment after the last test.
PostgresServer* SharedPostgres();
std::string PostgresUnavailableReason();

}  // namespace trainyard::testing
