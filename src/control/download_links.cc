#include "control/download_links.h"

#include <charconv>

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
  TY_RETURN_IF_ERROR(WritePrivateFileAtomic(file, key + "\n"));
  return key;
}

}  // namespace trainyard::control
