// The JSON Web Tokens that slurmrestd passes through to slurmctld (auth/jwt): where the REST
// transport gets the token of a Slurm user, and how trainyard mints one from the cluster's HS256
// key, as `scontrol token` does.
//
// Tokens are secrets: no error message, log line or exception carries one.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace trainyard::executor {

// An HS256 JWT for Slurm user `user`: the header {"alg":"HS256","typ":"JWT"}, the claims
// {"exp": issued_at + lifespan, "iat": issued_at, "sun": user} ("sun": Slurm's user name), signed
// with `key` (the bytes of AuthAltParameters' jwt_key file). Pure.
std::string MintSlurmJwt(std::string_view key, const std::string& user, int64_t issued_at,
                         std::chrono::seconds lifespan);

struct SlurmTokenOptions {
  // A token written by the site (`scontrol token username=X lifespan=N`, renewed by cron, ...);
  // read again whenever the file changes. It is the token of `token_user` only.
  std::filesystem::path token_file;
  std::string token_user;
  // The cluster's HS256 key (AuthAltParameters=jwt_key=...): a token is minted for any user who
  // asks, valid for `lifespan`, and minted again once less than half of it is left. Exclusive
  // with token_file.
  std::filesystem::path jwt_key_file;
  std::chrono::seconds lifespan{600};
  std::function<std::chrono::system_clock::time_point()> now = [] {
    return std::chrono::system_clock::now();
  };
};

class SlurmTokenSource {
 public:
  // InvalidArgument when neither or both of token_file and jwt_key_file are given, or a token
  // file without its user.
  static Result<std::shared_ptr<SlurmTokenSource>> Create(SlurmTokenOptions options);

  // The token for Slurm user `user`. PermissionDenied for another user than the token file's;
  // FailedPrecondition naming the file when it cannot be read or is empty.
  Result<std::string> Token(const std::string& user);
  // Whether Token mints for any user (the cluster's key), rather than reading one user's file.
  bool MintsForAnyUser() const { return !options_.jwt_key_file.empty(); }

 private:
  explicit SlurmTokenSource(SlurmTokenOptions options) : options_(std::move(options)) {}
  Result<std::string> ReadTokenFile();
  Result<std::string> Mint(const std::string& user);

  struct Minted {
    std::string token;
    std::chrono::system_clock::time_point renew_at;
  };

  SlurmTokenOptions options_;
  std::mutex mutex_;
  // The token file as last read, and what identified that version of it.
  std::string file_token_;
  std::filesystem::file_time_type file_time_{};
  uintmax_t file_size_ = 0;
  std::string key_;                       // the JWT key, read once
  std::map<std::string, Minted> minted_;  // by user
};

}  // namespace trainyard::executor
