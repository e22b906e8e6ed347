// ObjectStore: where trainyard keeps datasets, model artifacts and job outputs, addressed by key
// ("datasets/iris/train.csv"), as S3 does. One interface; backends are chosen by URI
// (OpenObjectStore), and every backend passes the suite in object_store_conformance.h.
//
// Thread-safety: every ObjectStore is safe to call from many threads at once, and the local
// backend also from many processes sharing one root. A Put is atomic: a concurrent reader sees
// the previous object or the whole new one, never a part.
//
// Failures are Status values; messages name the key ("object 'datasets/x.csv' not found").
// Keys that break ValidateObjectKey's rules are refused with InvalidArgument by every method.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/environment.h"
#include "common/status.h"
#include "common/time_format.h"

namespace trainyard::storage {

// User metadata, as S3's x-amz-meta-* headers: names in lower case.
using ObjectMetadata = std::map<std::string, std::string>;

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  // Lowercase hex SHA-256 of the whole object. Empty where the backend does not know it: an S3
  // object written by multipart upload or by another tool (see S3ObjectStore), and in List
  // pages of such backends.
  std::string sha256_hex;
  TimePoint last_modified;
  std::string content_type;  // "application/octet-stream" when the Put gave none
  ObjectMetadata metadata;   // what the Put gave (Head and Put report it; List need not)
};

struct PutOptions {
  std::string content_type;  // empty: "application/octet-stream"
  // When set, the Put fails unless the streamed bytes have this SHA-256 (hex, either case).
  std::optional<std::string> expected_sha256_hex;
  // Names: 1 to 128 of [a-z0-9-_.]; values printable ASCII; at most 2 KiB together (S3's
  // limit). Anything else is InvalidArgument naming the entry.
  ObjectMetadata metadata;
};

// Bytes [offset, offset + length) of an object; length nullopt: to the end.
struct ByteRange {
  uint64_t offset = 0;
  std::optional<uint64_t> length;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // sorted by key (byte order)
  bool truncated = false;           // more keys match: ask again with start_after = last key
};

// One version of an object, opened: its info and its bytes belong together even when a Put
// replaces the key meanwhile (ObjectStore::OpenVersion). Not thread-safe.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  virtual const ObjectInfo& info() const = 0;
  // Streams the opened version, or `range` of it, into `sink`: as ObjectStore::Get. Where the
  // backend cannot keep a replaced version readable (S3) it fails with Unavailable instead of
  // sending another version's bytes.
  virtual Status Read(std::ostream& sink, std::optional<ByteRange> range = {}) = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Streams exactly `size` bytes from `source` into `key`, computing SHA-256 as it goes, in
  // constant memory. Replaces an existing object atomically. Nothing becomes visible on failure:
  //   InvalidArgument: bad key, bad expected_sha256_hex, bad metadata, the digest does not match
  //   it, or
  //                    `source` ended before `size` bytes (bytes after `size` are left unread).
  //   FailedPrecondition: the backend cannot hold the key beside existing ones (the local store
  //                    cannot keep both "a" and "a/b", as a file cannot also be a directory).
  //   Internal: I/O failure.
  virtual Result<ObjectInfo> Put(const std::string& key, std::istream& source, uint64_t size,
                                 const PutOptions& options = {}) = 0;

  // NotFound naming the key when there is no such object.
  virtual Result<ObjectInfo> Head(const std::string& key) = 0;

  // Streams the object, or `range` of it, into `sink`. The range must lie within the object
  // (offset + length <= size; offset == size reads nothing); otherwise InvalidArgument, which
  // the HTTP layer maps to 416. NotFound naming the key; Internal when `sink` fails. On an
  // error after bytes were written, `sink` holds a prefix of the data.
  virtual Status Get(const std::string& key, std::ostream& sink,
                     std::optional<ByteRange> range = {}) = 0;

  // Head and Get of one version, for a caller that sends the info (a content type, metadata,
  // an ETag) before the bytes: a Head then a Get could pair one Put's headers with the next
  // Put's body. NotFound naming the key.
  virtual Result<std::unique_ptr<ObjectReader>> OpenVersion(const std::string& key) = 0;

  // Objects whose key starts with `prefix` (a plain string prefix, not a directory: "data/a"
  // matches "data/a1" and "data/a/b"), sorted, at most `max_keys` (0 is taken as 1000), the
  // first one after `start_after`. An object deleted while listing is left out.
  virtual Result<ListPage> List(const std::string& prefix, const std::string& start_after = "",
                                size_t max_keys = 1000) = 0;

  // Removes the object. Deleting a missing key is OK (S3 semantics); Internal on I/O failure.
  virtual Status Delete(const std::string& key) = 0;

  // Where the object's bytes already lie as a file on this machine, for a caller that can read
  // a file instead of copying the object (the scheduler stages channel data from it). The file
  // holds exactly the object's bytes; a later Put of the key replaces it (a new file under the
  // name, never a rewrite in place, so a reader that opened it keeps the bytes it opened) and a
  // Delete removes it. Callers only read it. nullopt where the backend keeps no local files (the
  // default, which makes no request and so does not notice a missing key); NotFound naming the
  // key where it does and there is no such object.
  virtual Result<std::optional<std::filesystem::path>> LocalFile(const std::string& key);
};

using ObjectStorePtr = std::unique_ptr<ObjectStore>;

// Keys are 1 to 1024 bytes of valid UTF-8 with no NUL or other control character (C0, DEL, C1),
// no leading or trailing '/', no empty segment ("a//b") and no "." or ".." segment. Returns
// InvalidArgument naming the key (escaped) and the rule it breaks.
Status ValidateObjectKey(const std::string& key);

// Checks PutOptions for `key` as every backend does: the content type (at most 256 printable
// ASCII characters), the metadata (see there), the expected digest (64 hex digits). Returns the
// expected digest in lower case; InvalidArgument naming the object and what is wrong.
Result<std::optional<std::string>> CheckPutOptions(const std::string& key,
                                                   const PutOptions& options);

// Opens a store by URI: "file:///abs/path" opens a LocalObjectStore rooted there (created if
// missing); "s3://bucket/prefix[?endpoint=...]" an S3ObjectStore configured from `environment`
// (the process environment, which only app/ reads) as the AWS SDKs are, its shared files under
// environment["HOME"] (see OpenS3ObjectStore). Any other form: InvalidArgument naming the URI and
// the supported schemes. `exclusive`: the caller alone uses the store, so a file:// store's temp
// files are all left by a Put that never finished, and are removed at once, whatever their age.
Result<ObjectStorePtr> OpenObjectStore(const std::string& uri, const EnvironmentMap& environment,
                                       bool exclusive = false);

}  // namespace trainyard::storage
