#include "common/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "support/test_paths.h"

namespace trainyard {
namespace {
namespace fs = std::filesystem;

TEST(FilesTest, WriteAtomicThenReadBack) {
  testing::TempDir dir;
  fs::path file = dir.path() / "a.json";
  ASSERT_TRUE(WriteFileAtomic(file, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(file, "two", Durability::kAtomicOnly).ok());
  EXPECT_EQ(*ReadFile(file), "two");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(FilesTest, MissingFileIsNotFoundNamingIt) {
  auto text = ReadFile("/no/such/file");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kNotFound);
  EXPECT_NE(text.status().message().find("/no/such/file"), std::string::npos);
  EXPECT_FALSE(WriteFileAtomic("/no/such/dir/file", "x").ok());
}

TEST(FilesTest, ListsRegularFilesSortedAndRelative) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "b" / "c");
  std::ofstream(dir.path() / "z.txt") << "z";
  std::ofstream(dir.path() / "b" / "c" / "d.txt") << "d";
  auto files = ListFilesRecursive(dir.path());
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(*files, (std::vector<std::string>{"b/c/d.txt", "z.txt"}));
}

TEST(FilesTest, CopyIntoTakesFilesAndDirectoryContents) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "src" / "sub");
  std::ofstream(dir.path() / "src" / "sub" / "x") << "x";
  std::ofstream(dir.path() / "single") << "s";
  ASSERT_TRUE(CopyInto(dir.path() / "src", dir.path() / "dst").ok());
  ASSERT_TRUE(CopyInto(dir.path() / "single", dir.path() / "dst").ok());
  EXPECT_EQ(*ReadFile(dir.path() / "dst" / "sub" / "x"), "x");
  EXPECT_EQ(*ReadFile(dir.path() / "dst" / "single"), "s");
  EXPECT_EQ(CopyInto(dir.path() / "missing", dir.path() / "dst").code(), StatusCode::kNotFound);
}

TEST(FilesTest, CopyFileAtomicReplacesWholeAndLeavesNoTemporary) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "source", "new").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "copy", "old").ok());
  ASSERT_TRUE(CopyFileAtomic(dir.path() / "source", dir.path() / "copy").ok());
  EXPECT_EQ(*ReadFile(dir.path() / "copy"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
  Status missing = CopyFileAtomic(dir.path() / "none", dir.path() / "copy");
  EXPECT_EQ(missing.code(), StatusCode::kInternal);
  EXPECT_NE(missing.message().find("none"), std::string::npos) << missing.message();
  EXPECT_EQ(*ReadFile(dir.path() / "copy"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// A full disk is reported as such: DiskFull ("No space left on device"), which the API answers
// 507; fs::copy_file reported "Input/output error" (a short sendfile) instead.
TEST(FilesTest, CopyToAFullDiskIsDiskFullNotAnInputOutputError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "/dev/full is missing: no full device to write to";
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "data.bin", std::string(3 << 20, 'd')).ok());
  Status copied = CopyFileContents(dir.path() / "data.bin", "/dev/full");
  EXPECT_EQ(copied.code(), StatusCode::kResourceExhausted) << copied.ToString();
  EXPECT_TRUE(copied.disk_full()) << copied.ToString();
  EXPECT_NE(copied.message().find("No space left on device"), std::string::npos)
      << copied.ToString();
  EXPECT_EQ(ToHttpStatus(copied), 507);
  EXPECT_EQ(ToHttpStatus(copied.WithContext("channel 'training'")), 507);
  EXPECT_EQ(ToExitCode(copied), 7);
  EXPECT_EQ(ToHttpStatus(ResourceExhausted("the body is larger than 4 MiB")), 413);

  Status into = CopyFileContents(dir.path() / "data.bin", dir.path() / "copy.bin");
  ASSERT_TRUE(into.ok()) << into.ToString();
  EXPECT_EQ(ReadFile(dir.path() / "copy.bin").value(), std::string(3 << 20, 'd'));
}

TEST(FilesTest, FindsExecutablesOnASearchPath) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "bin");
  fs::path tool = dir.path() / "bin" / "tool";
  std::ofstream(tool) << "#!/bin/sh\n";
  std::ofstream(dir.path() / "plain") << "not executable";
  ::chmod(tool.c_str(), 0755);
  std::string path = "/nonexistent::" + (dir.path() / "bin").string();
  EXPECT_EQ(FindExecutable("tool", path), tool);
  EXPECT_FALSE(FindExecutable("plain", dir.path().string()).has_value());
  EXPECT_FALSE(FindExecutable("tool", "").has_value());
}

}  // namespace
}  // namespace trainyard
