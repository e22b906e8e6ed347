#include "server/s3/object_pipe.h"

#include <algorithm>
#include <cstring>
#include <istream>
#include <ostream>
#include <streambuf>
#include <thread>

namespace trainyard::server::s3 {

BytePipe::BytePipe(size_t capacity) : ring_(capacity) {}

bool BytePipe::Write(const char* data, size_t size) {
  std::unique_lock lock(mutex_);
  while (size > 0) {
    changed_.wait(lock, [&] { return reader_closed_ || used_ < ring_.size(); });
    if (reader_closed_) return false;
    size_t tail = (head_ + used_) % ring_.size();
    size_t room = std::min(ring_.size() - used_, ring_.size() - tail);
    size_t n = std::min(room, size);
    std::memcpy(ring_.data() + tail, data, n);
    used_ += n;
    data += n;
    size -= n;
    changed_.notify_all();
  }
  return true;
}

void BytePipe::CloseWriter() {
  std::lock_guard lock(mutex_);
  writer_closed_ = true;
  changed_.notify_all();
}

size_t BytePipe::Read(char* data, size_t capacity) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return writer_closed_ || used_ > 0; });
  size_t n = std::min({capacity, used_, ring_.size() - head_});
  std::memcpy(data, ring_.data() + head_, n);
  head_ = (head_ + n) % ring_.size();
  used_ -= n;
  changed_.notify_all();
  return n;
}

void BytePipe::CloseReader() {
  std::lock_guard lock(mutex_);
  reader_closed_ = true;
  changed_.notify_all();
}

namespace {

constexpr size_t kChunk = 256 * 1024;

class PipeSinkBuffer : public std::streambuf {
 public:
  explicit PipeSinkBuffer(BytePipe& pipe) : pipe_(pipe), buffer_(kChunk) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }

 protected:
  int_type overflow(int_type ch) override {
    if (sync() != 0) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override {
    size_t pending = static_cast<size_t>(pptr() - pbase());
    bool ok = pending == 0 || pipe_.Write(pbase(), pending);
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return ok ? 0 : -1;
  }

 private:
  BytePipe& pipe_;
  std::vector<char> buffer_;
};

class PipeSourceBuffer : public std::streambuf {
 public:
  explicit PipeSourceBuffer(BytePipe& pipe) : pipe_(pipe), buffer_(kChunk) {}

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    size_t n = pipe_.Read(buffer_.data(), buffer_.size());
    if (n == 0) return traits_type::eof();
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  BytePipe& pipe_;
  std::vector<char> buffer_;
};

}  // namespace

Result<storage::ObjectInfo> ConcatenateInto(storage::ObjectStore& objects,
                                            const std::vector<PipeSource>& sources,
                                            uint64_t total_size, const std::string& target_key,
                                            const storage::PutOptions& options) {
  BytePipe pipe(4 * kChunk);
  Status producer_status;
  std::thread producer([&] {
    PipeSinkBuffer sink_buffer(pipe);
    std::ostream sink(&sink_buffer);
    for (const PipeSource& source : sources) {
      producer_status = objects.Get(source.key, sink, source.range);
      if (producer_status.ok() && sink_buffer.pubsync() != 0) {
        producer_status = Cancelled("the target stopped reading");
      }
      if (!producer_status.ok()) break;
    }
    pipe.CloseWriter();
  });
  PipeSourceBuffer source_buffer(pipe);
  std::istream source(&source_buffer);
  Result<storage::ObjectInfo> put = objects.Put(target_key, source, total_size, options);
  pipe.CloseReader();
  producer.join();
  if (!producer_status.ok() && producer_status.code() != StatusCode::kCancelled) {
    return producer_status;
  }
  return put;
}

}  // namespace trainyard::server::s3
