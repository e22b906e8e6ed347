// The file is written by hand rather than with WriteFileAtomic: it must be created with mode
// 0600 from its first byte, never readable by others even for a moment.
#include "server/s3/s3_credentials.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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
  std::filesystem::path temp = file.string() + ".tmp";
  ::unlink(temp.c_str());  // a leftover of a crash, perhaps with other permissions
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Internal("cannot create '" + temp.string() + "': " + std::strerror(errno));
  }
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), file.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Internal("cannot write '" + file.string() + "': " + std::strerror(errno));
  }
  *created = true;
  return pair;
}

}  // namespace trainyard::server
