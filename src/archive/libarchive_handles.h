// Owning handles for libarchive objects, so every early return frees them.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace trainyard::archive::internal {

struct ReaderDeleter {
  void operator()(struct ::archive* reader) const { archive_read_free(reader); }
};
struct WriterDeleter {
  void operator()(struct ::archive* writer) const { archive_write_free(writer); }
};
struct EntryDeleter {
  void operator()(struct ::archive_entry* entry) const { archive_entry_free(entry); }
};

using ArchiveReader = std::unique_ptr<struct ::archive, ReaderDeleter>;
using ArchiveWriter = std::unique_ptr<struct ::archive, WriterDeleter>;
using ArchiveEntry = std::unique_ptr<struct ::archive_entry, EntryDeleter>;

}  // namespace trainyard::archive::internal
