// The key file is written by hand rather than with WriteFileAtomic: it must have mode 0600 from
// its first byte, never readable by others even for a moment.
#include "control/download_links.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "aws/crypto.h"
#include "common/files.h"
#include "control/job_tokens.h"

namespace trainyard::control {
namespace {

int64_t UnixSeconds(TimePoint time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

}  // namespace

std::string DownloadLinkSigner::Signature(const std::string& job, const std::string& artifact,
                                          const std::string& expires) const {
  return aws::HexEncode(aws::HmacSha256(key_, job + "\n" + artifact + "\n" + expires));
}

std::string DownloadLinkSigner::SignQuery(const std::string& job, const std::string& artifact,
                                          TimePoint expires) const {
  std::string seconds = std::to_string(UnixSeconds(expires));
  return "expires=" + seconds + "&signature=" + Signature(job, artifact, seconds);
}

Status DownloadLinkSigner::Check(const std::string& job, const std::string& artifact,
                                 const std::string& expires, const std::string& signature,
                                 TimePoint now) const {
  int64_t seconds = 0;
  auto [end, error] = std::from_chars(expires.data(), expires.data() + expires.size(), seconds);
  if (expires.empty() || error != std::errc() || end != expires.data() + expires.size()) {
    return Status(StatusCode::kPermissionDenied,
                  "the link's 'expires' is not a time in unix seconds");
  }
  // The signature is checked before the time, so that an expired link says so only when it
  // was a real one.
  if (!ConstantTimeEquals(Signature(job, artifact, expires), signature)) {
    return Status(StatusCode::kPermissionDenied, "the link's signature is not valid");
  }
  if (UnixSeconds(now) > seconds) {
    return Status(StatusCode::kPermissionDenied,
                  "the link expired at " + FormatIso8601(TimePoint(std::chrono::seconds(seconds))));
  }
  return Status::Ok();
}

Result<std::string> LoadOrCreateLinkKey(const std::filesystem::path& file) {
  if (auto text = ReadFile(file); text.ok()) {
    std::string key = *text;
    while (!key.empty() && (key.back() == '\n' || key.back() == ' ')) key.pop_back();
    if (key.size() < 64) {
      return InvalidArgument("'" + file.string() +
                             "' is not a link key (64 hex digits); remove it to make a new one "
                             "(links already given out stop working)");
    }
    return key;
  }
  std::string key = RandomHex(64);
  std::filesystem::path temp = file.string() + ".tmp";
  ::unlink(temp.c_str());  // a leftover of a crash, perhaps with other permissions
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create '" + temp.string() + "': " + std::strerror(errno));
  std::string text = key + "\n";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                 ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), file.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Internal("cannot write '" + file.string() + "': " + std::strerror(errno));
  }
  return key;
}

}  // namespace trainyard::control
