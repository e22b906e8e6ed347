#include "server/s3/s3_names.h"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>

#include "aws/crypto.h"
#include "storage/object_store.h"

namespace trainyard::server::s3 {

S3Outcome CheckBucketName(const std::string& bucket) {
  auto invalid = [&](const std::string& why) {
    return MakeError(400, "InvalidBucketName",
                     "The specified bucket is not valid: '" + bucket + "' " + why);
  };
  if (bucket.size() < 3 || bucket.size() > 63) return invalid("must be 3 to 63 characters long");
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return invalid("may hold only lowercase letters, digits, '.' and '-'");
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return invalid("must begin and end with a letter or digit");
  }
  if (bucket.find("..") != std::string::npos) return invalid("must not hold two adjacent periods");
  if (bucket.find(".-") != std::string::npos || bucket.find("-.") != std::string::npos) {
    return invalid("must not hold a period next to a hyphen");
  }
  int a, b, c, d;
  char tail;
  if (std::sscanf(bucket.c_str(), "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) == 4) {
    return invalid("must not be formatted as an IP address");
  }
  for (const char* prefix : {"xn--", "sthree-"}) {
    if (bucket.rfind(prefix, 0) == 0) return invalid(std::string("must not start with ") + prefix);
  }
  for (std::string suffix : {"-s3alias", "--ol-s3"}) {
    if (bucket.size() > suffix.size() &&
        bucket.compare(bucket.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return invalid("must not end with " + suffix);
    }
  }
  return std::nullopt;
}

S3Outcome CheckObjectKey(const std::string& key) {
  if (key.size() > 1024) {
    return MakeError(400, "KeyTooLongError",
                     "Your key is too long: " + std::to_string(key.size()) +
                         " bytes, the maximum is 1024 ('" + key.substr(0, 64) + "...')");
  }
  Status valid = storage::ValidateObjectKey(key);
  if (!valid.ok()) return InvalidArgument(valid.message());  // "invalid object key 'k': why"
  return std::nullopt;
}

std::string BucketMarkerKey(const std::string& bucket) {
  return "s3/buckets/" + bucket;
}
std::string BucketObjectsPrefix(const std::string& bucket) {
  return "s3/objects/" + bucket + "/";
}
std::string ObjectStoreKey(const std::string& bucket, const std::string& key) {
  return BucketObjectsPrefix(bucket) + key;
}
std::string UploadRecordKey(const std::string& upload_id) {
  return kUploadsPrefix + upload_id + "/upload.json";
}
std::string PartsPrefix(const std::string& upload_id) {
  return kUploadsPrefix + upload_id + "/part-";
}
std::string PartKey(const std::string& upload_id, int part_number) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%05d", part_number);
  return PartsPrefix(upload_id) + digits;
}

std::string ETagOf(const std::string& sha256_hex, uint64_t size, TimePoint last_modified) {
  if (sha256_hex.size() >= 32) return "\"" + sha256_hex.substr(0, 32) + "\"";
  std::string stand_in = aws::Sha256Hex(std::to_string(size) + "@" +
                                        std::to_string(last_modified.time_since_epoch().count()));
  return "\"" + stand_in.substr(0, 32) + "\"";
}

std::string FormatHttpDate(TimePoint time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[parts.tm_wday],
                parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                parts.tm_min, parts.tm_sec);
  return text;
}

std::string FormatXmlDate(TimePoint time) {
  return FormatIso8601(time);
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // OpenSSL's generator does not fail once seeded; fall back rather than abort.
    for (char& c : raw) c = static_cast<char>(std::rand());
  }
  return aws::HexEncode(raw);
}

}  // namespace trainyard::server::s3
