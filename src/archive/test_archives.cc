#include "archive/test_archives.h"

#include <archive.h>
#include <archive_entry.h>

#include <stdexcept>

namespace trainyard::archive::testing {

namespace {
void Check(struct ::archive* archive, int result, const std::string& what) {
  if (result < ARCHIVE_WARN) {
    throw std::runtime_error(what + ": " + archive_error_string(archive));
  }
}
}  // namespace

void WriteTestArchive(const std::filesystem::path& path, Format format,
                      const std::vector<TestEntry>& entries) {
  struct ::archive* writer = archive_write_new();
  if (format == Format::kZip) {
    Check(writer, archive_write_set_format_zip(writer), "zip format");
  } else {
    Check(writer, archive_write_set_format_pax_restricted(writer), "tar format");
  }
  if (format == Format::kTarGz) Check(writer, archive_write_add_filter_gzip(writer), "gzip");
  Check(writer, archive_write_open_filename(writer, path.c_str()), "open");
  for (const TestEntry& spec : entries) {
    struct ::archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, spec.path.c_str());
    archive_entry_set_perm(entry, spec.mode);
    archive_entry_set_mtime(entry, 1'700'000'000, 0);
    switch (spec.type) {
      case TestEntry::Type::kFile:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_size(entry, static_cast<la_int64_t>(spec.content.size()));
        break;
      case TestEntry::Type::kDirectory: archive_entry_set_filetype(entry, AE_IFDIR); break;
      case TestEntry::Type::kSymlink:
        archive_entry_set_filetype(entry, AE_IFLNK);
        archive_entry_set_symlink(entry, spec.target.c_str());
        break;
      case TestEntry::Type::kHardlink:
        archive_entry_set_filetype(entry, AE_IFREG);
        archive_entry_set_hardlink(entry, spec.target.c_str());
        break;
      case TestEntry::Type::kFifo: archive_entry_set_filetype(entry, AE_IFIFO); break;
    }
    Check(writer, archive_write_header(writer, entry), "header for " + spec.path);
    if (!spec.content.empty()) {
      if (archive_write_data(writer, spec.content.data(), spec.content.size()) !=
          static_cast<la_ssize_t>(spec.content.size())) {
        throw std::runtime_error("data for " + spec.path);
      }
    }
    archive_entry_free(entry);
  }
  Check(writer, archive_write_close(writer), "close");
  archive_write_free(writer);
}

TestEntry File(std::string path, std::string content, int mode) {
  return {TestEntry::Type::kFile, std::move(path), std::move(content), "", mode};
}
TestEntry Directory(std::string path) {
  return {TestEntry::Type::kDirectory, std::move(path), "", "", 0755};
}
TestEntry Symlink(std::string path, std::string target) {
  return {TestEntry::Type::kSymlink, std::move(path), "", std::move(target), 0777};
}
TestEntry Hardlink(std::string path, std::string target) {
  return {TestEntry::Type::kHardlink, std::move(path), "", std::move(target), 0644};
}
TestEntry Fifo(std::string path) {
  return {TestEntry::Type::kFifo, std::move(path), "", "", 0644};
}

std::vector<std::string> ListArchive(const std::filesystem::path& path) {
  struct ::archive* reader = archive_read_new();
  archive_read_support_format_all(reader);
  archive_read_support_filter_all(reader);
  Check(reader, archive_read_open_filename(reader, path.c_str(), 1 << 16), "open");
  std::vector<std::string> names;
  struct ::archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    names.emplace_back(archive_entry_pathname(entry));
  }
  archive_read_free(reader);
  return names;
}

}  // namespace trainyard::archive::testing
