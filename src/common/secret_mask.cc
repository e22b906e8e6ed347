#include "common/secret_mask.h"

#include <algorithm>
#include <fstream>
#include <system_error>

namespace trainyard {
namespace fs = std::filesystem;

SecretMask::SecretMask(const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinSecretLength) continue;
    if (secret.find_first_of("\r\n") != std::string::npos) continue;
    if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) continue;
    secrets_.push_back(secret);
  }
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

SecretMask SecretMask::FromEnvironment(const EnvironmentMap& environment,
                                       const std::vector<std::string>& more) {
  std::vector<std::string> secrets = more;
  for (const auto& [key, value] : environment) {
    if (IsSecretName(key)) secrets.push_back(value);
  }
  return SecretMask(secrets);
}

std::string SecretMask::Apply(std::string_view text) const {
  std::string masked(text);
  for (const std::string& secret : secrets_) {
    size_t at = 0;
    while ((at = masked.find(secret, at)) != std::string::npos) {
      masked.replace(at, secret.size(), kSecretMaskText);
      at += kSecretMaskText.size();
    }
  }
  return masked;
}

Status SecretMask::ApplyToFile(const fs::path& file) const {
  std::error_code error;
  if (!fs::exists(file, error)) return NotFound("'" + file.string() + "' does not exist");
  if (secrets_.empty()) return Status::Ok();
  std::ifstream in(file, std::ios::binary);
  if (!in) return Internal("cannot read '" + file.string() + "'");
  fs::path temp = file;
  temp += ".masking";
  bool changed = false;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot write '" + temp.string() + "'");
    std::string line;
    while (std::getline(in, line)) {
      std::string masked = Apply(line);
      changed = changed || masked != line;
      out << masked;
      if (!in.eof()) out << '\n';  // the last line keeps its missing end of line
    }
    if (in.bad()) {
      fs::remove(temp, error);
      return Internal("cannot read '" + file.string() + "'");
    }
    out.close();
    if (!out) {
      fs::remove(temp, error);
      return Internal("cannot write '" + temp.string() + "'");
    }
  }
  if (!changed) {
    fs::remove(temp, error);
    return Status::Ok();
  }
  fs::rename(temp, file, error);
  if (error) {
    fs::remove(temp, error);
    return Internal("cannot replace '" + file.string() + "': " + error.message());
  }
  return Status::Ok();
}

}  // namespace trainyard
