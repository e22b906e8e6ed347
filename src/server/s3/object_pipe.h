// Streaming one or more stored objects (or ranges of them) into a single new object without
// holding it in memory: a producer thread Get()s the sources, in order, into a bounded pipe
// whose reading end is the istream that ObjectStore::Put consumes. Used by
// CompleteMultipartUpload (parts into the final key), CopyObject and UploadPartCopy.
//
// Thread-safety: BytePipe is safe for one writer thread and one reader thread; the rest is
// called from one thread (ConcatenateInto starts and joins its own producer).
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "storage/object_store.h"

namespace trainyard::server::s3 {

// A bounded byte queue between two threads.
class BytePipe {
 public:
  explicit BytePipe(size_t capacity);
  // Blocks while full. false when the reader has gone (nothing more will be read).
  bool Write(const char* data, size_t size);
  // No more writes; the reader sees the end once the queue drains.
  void CloseWriter();
  // Blocks while empty and open. 0 at the end.
  size_t Read(char* data, size_t capacity);
  // The reader stops: a blocked or later Write returns false.
  void CloseReader();

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<char> ring_;
  size_t head_ = 0;  // next byte to read
  size_t used_ = 0;
  bool writer_closed_ = false;
  bool reader_closed_ = false;
};

struct PipeSource {
  std::string key;                          // a key of the store
  std::optional<storage::ByteRange> range;  // nullopt: the whole object
};

// Puts the concatenation of `sources` (exactly `total_size` bytes together) into `target_key`.
// A source that cannot be read fails the whole Put (its error, naming the key, is returned) and
// nothing is stored; otherwise Put's result.
Result<storage::ObjectInfo> ConcatenateInto(storage::ObjectStore& objects,
                                            const std::vector<PipeSource>& sources,
                                            uint64_t total_size, const std::string& target_key,
                                            const storage::PutOptions& options);

}  // namespace trainyard::server::s3
