#include "executor/slurm/slurm_token.h"

#include <nlohmann/json.hpp>

#include "aws/crypto.h"
#include "common/files.h"

namespace trainyard::executor {
namespace fs = std::filesystem;

namespace {

// JWT's base64url (RFC 7515 §2): URL-safe alphabet, no padding.
std::string Base64Url(std::string_view bytes) {
  std::string text = aws::Base64Encode(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

std::string WithoutSurroundingSpace(std::string text) {
  const char* space = " \t\r\n";
  size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(space) + 1 - first);
}

}  // namespace

std::string MintSlurmJwt(std::string_view key, const std::string& user, int64_t issued_at,
                         std::chrono::seconds lifespan) {
  // Field order as Slurm's own tokens have them; any order is valid.
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  const std::string claims = nlohmann::json{
      {"exp", issued_at + lifespan.count()},
      {"iat", issued_at},
      {"sun", user}}.dump();
  std::string signing_input = Base64Url(header) + "." + Base64Url(claims);
  return signing_input + "." + Base64Url(aws::HmacSha256(key, signing_input));
}

Result<std::shared_ptr<SlurmTokenSource>> SlurmTokenSource::Create(SlurmTokenOptions options) {
  if (options.token_file.empty() == options.jwt_key_file.empty()) {
    return InvalidArgument(
        "slurm_rest_token_file, slurm_jwt_key_file: give exactly one (a token file, or the "
        "cluster's JWT key to mint tokens with)");
  }
  if (!options.token_file.empty() && options.token_user.empty()) {
    return InvalidArgument("slurm_rest_user: the Slurm user of the token file is required");
  }
  if (options.lifespan < std::chrono::seconds(10)) {
    return InvalidArgument("slurm_jwt_lifespan_seconds: at least 10");
  }
  return std::shared_ptr<SlurmTokenSource>(new SlurmTokenSource(std::move(options)));
}

Result<std::string> SlurmTokenSource::Token(const std::string& user) {
  std::lock_guard lock(mutex_);
  if (!options_.jwt_key_file.empty()) return Mint(user);
  if (user != options_.token_user) {
    return Status(StatusCode::kPermissionDenied,
                  "the Slurm token file '" + options_.token_file.string() + "' is user '" +
                      options_.token_user + "''s, not '" + user + "''s");
  }
  return ReadTokenFile();
}

Result<std::string> SlurmTokenSource::ReadTokenFile() {
  // A site renews the token by replacing the file: read it again when it changed, and only then.
  std::error_code error;
  fs::file_time_type time = fs::last_write_time(options_.token_file, error);
  uintmax_t size = error ? 0 : fs::file_size(options_.token_file, error);
  if (error) {
    return FailedPrecondition("the Slurm token file '" + options_.token_file.string() +
                              "' cannot be read: " + error.message());
  }
  if (!file_token_.empty() && time == file_time_ && size == file_size_) return file_token_;
  Result<std::string> text = ReadFile(options_.token_file);
  if (!text.ok()) {
    return FailedPrecondition("the Slurm token file '" + options_.token_file.string() +
                              "' cannot be read: " + text.status().message());
  }
  // `scontrol token` prints "SLURM_JWT=<token>": the file may hold that line as it is.
  std::string token = WithoutSurroundingSpace(*text);
  if (token.starts_with("SLURM_JWT=")) token = token.substr(std::string("SLURM_JWT=").size());
  if (token.empty()) {
    return FailedPrecondition("the Slurm token file '" + options_.token_file.string() +
                              "' is empty");
  }
  file_token_ = std::move(token);
  file_time_ = time;
  file_size_ = size;
  return file_token_;
}

Result<std::string> SlurmTokenSource::Mint(const std::string& user) {
  if (user.empty()) return InvalidArgument("no Slurm user to mint a token for");
  auto now = options_.now();
  if (auto found = minted_.find(user); found != minted_.end() && now < found->second.renew_at) {
    return found->second.token;
  }
  if (key_.empty()) {
    Result<std::string> key = ReadFile(options_.jwt_key_file);
    if (!key.ok() || key->empty()) {
      return FailedPrecondition(
          "the Slurm JWT key file '" + options_.jwt_key_file.string() +
          "' cannot be read: " + (key.ok() ? std::string("it is empty") : key.status().message()));
    }
    key_ = std::move(key).value();
  }
  int64_t issued_at =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  Minted minted{MintSlurmJwt(key_, user, issued_at, options_.lifespan),
                now + options_.lifespan / 2};
  minted_[user] = minted;
  return minted.token;
}

}  // namespace trainyard::executor
