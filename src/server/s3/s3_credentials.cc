#include "server/s3/s3_credentials.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "common/files.h"

namespace trainyard::server {
namespace {

std::string RandomFrom(const std::string& alphabet, size_t length) {
  std::string out;
  while (out.size() < length) {
    unsigned char byte = 0;
    if (RAND_bytes(&byte, 1) != 1) continue;
    // Rejection sampling keeps every character equally likely.
    if (byte >= 256 - 256 % alphabet.size()) continue;
    out.push_back(alphabet[byte % alphabet.size()]);
  }
  return out;
}

}  // namespace

S3KeyPair GenerateS3KeyPair() {
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string mixed = upper + "abcdefghijklmnopqrstuvwxyz";
  return S3KeyPair{"TY" + RandomFrom(upper, 18), RandomFrom(mixed, 40)};
}

Result<S3KeyPair> LoadOrCreateS3KeyPair(const std::filesystem::path& file, bool* created) {
  *created = false;
  if (auto text = ReadFile(file); text.ok()) {
    try {
      nlohmann::json document = nlohmann::json::parse(*text);
      S3KeyPair pair{document.at("access_key_id").get<std::string>(),
                     document.at("secret_access_key").get<std::string>()};
      if (pair.access_key_id.empty() || pair.secret_access_key.empty()) {
        throw std::runtime_error("empty key");
      }
      return pair;
    } catch (const std::exception&) {
      return InvalidArgument("'" + file.string() +
                             "' is not {\"access_key_id\": ..., \"secret_access_key\": ...}; "
                             "fix or remove it to generate a new key pair");
    }
  }
  S3KeyPair pair = GenerateS3KeyPair();
  nlohmann::json document = {{"access_key_id", pair.access_key_id},
                             {"secret_access_key", pair.secret_access_key}};
  std::string text = document.dump(2) + "\n";
  TY_RETURN_IF_ERROR(WritePrivateFileAtomic(file, text));
  *created = true;
  return pair;
}

}  // namespace trainyard::server
