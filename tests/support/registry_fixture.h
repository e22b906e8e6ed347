// A real container registry for tests: Debian's docker-registry (the CNCF distribution, 2.8),
// started once per test binary on a free loopback port, serving TLS with a certificate made for
// 127.0.0.1 by openssl, and asking for basic auth against an htpasswd file (bcrypt, made by
// htpasswd from apache2-utils). Its storage is a temporary directory.
//
// podman reaches it through a registries.conf of the fixture's own, given by
// CONTAINERS_REGISTRIES_CONF (never /etc): the registry is marked `insecure`, podman's
// documented setting for a registry whose certificate it cannot verify (the test certificate
// is self-signed); the traffic is still TLS.
//
//   RegistryServer* registry = SharedRegistry();
//   if (registry == nullptr) GTEST_SKIP() << RegistryUnavailableReason();
//   std::string image = registry->host() + "/team/trainer:v1";   // 127.0.0.1:PORT/...
//   RunProcess({"podman", "push", "--authfile", registry->AuthFile(), "local", image},
//              registry->PodmanEnvironment());
//
// Thread-safety: SharedRegistry must first be called from the main thread (the registry is
// asked to stop when the thread that started it ends); the rest may be called from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "support/subprocess.h"
#include "support/test_paths.h"

namespace trainyard::testing {

class RegistryServer {
 public:
  ~RegistryServer();

  // "127.0.0.1:PORT": the prefix of every image reference in this registry.
  const std::string& host() const { return host_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  // An auth.json (the runtime's format: {"auths": {HOST: {"auth": base64(user:password)}}})
  // holding the registry's credentials.
  const std::filesystem::path& AuthFile() const { return auth_file_; }
  // An auth.json at `path` for this registry with the given credentials (wrong ones, for tests
  // of refusals).
  std::filesystem::path WriteAuthFile(const std::filesystem::path& path, const std::string& user,
                                      const std::string& password) const;
  // The registries.conf that marks this registry insecure (see above).
  const std::filesystem::path& RegistriesConf() const { return registries_conf_; }
  // What podman needs to reach the registry: CONTAINERS_REGISTRIES_CONF, and CONTAINERS_CONF
  // (src/executor/container/containers.conf, as every podman of the tests).
  std::map<std::string, std::string> PodmanEnvironment() const;
  // The registry's own log so far (its access log included).
  std::string Log() const;
  // How many times `repository` ("team/trainer") had a manifest served with 200 to a GET: one
  // per pull of an image (a push only PUTs and HEADs).
  int ManifestDownloads(const std::string& repository) const;
  // The digest the registry serves for `repository:tag` ("sha256:..."), asked over HTTPS with
  // the registry's credentials; "" (and a failed test) when it cannot be read.
  std::string ManifestDigest(const std::string& repository, const std::string& tag) const;

 private:
  friend RegistryServer* SharedRegistry();
  RegistryServer() = default;
  std::string Start();  // empty when started and answering, else why not

  std::unique_ptr<TempDir> temp_;
  std::string host_;
  std::string user_ = "trainer-team";
  std::string password_;
  std::filesystem::path auth_file_, registries_conf_, certificate_;
  std::unique_ptr<Process> process_;
};

// The binary's one registry, started on first use; nullptr when it cannot run here, with the
// reason in RegistryUnavailableReason(). Stopped by a gtest Environment after the last test.
RegistryServer* SharedRegistry();
std::string RegistryUnavailableReason();

}  // namespace trainyard::testing
