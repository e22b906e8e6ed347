#include "archive/archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>

#include "archive/test_archives.h"
#include "common/files.h"

namespace trainyard::archive {
namespace {

namespace fs = std::filesystem;
using testing::Directory;
using ::testing::ElementsAre;
using testing::Fifo;
using testing::File;
using testing::Format;
using testing::Hardlink;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Symlink;
using testing::WriteTestArchive;

void WriteBytes(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadBytes(const fs::path& path) {
  Result<std::string> content = ReadFile(path);
  EXPECT_TRUE(content.ok()) << content.status().ToString();
  return content.ok() ? *content : "";
}

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

// Everything under `directory`, hidden entries and symlinks included (not followed), so that a
// test can say "nothing new appeared", staging directories and partial files included.
std::vector<std::string> Snapshot(const fs::path& directory) {
  std::vector<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(directory)) {
    entries.push_back(fs::relative(entry.path(), directory).string());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "archive_test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    inputs_ = root_ / "inputs";
    destination_ = root_ / "nest" / "destination";  // two levels, so "../.." stays in root_
    fs::create_directories(inputs_);
    fs::create_directories(destination_);
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path Input(const std::string& name) const { return inputs_ / name; }

  void Run(const std::string& command) { ASSERT_EQ(std::system(command.c_str()), 0) << command; }

  // The common shape of every hostile-archive test: the right code, a message naming the archive
  // and the reason, and nothing left behind anywhere under the test's root.
  void ExpectRefused(const fs::path& archive, StatusCode code, const std::string& reason,
                     const UnpackLimits& limits = {}) {
    std::vector<std::string> before = Snapshot(root_);
    Result<std::vector<std::string>> result = Unpack(archive, destination_, limits);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), code) << result.status().ToString();
    EXPECT_THAT(result.status().message(),
                HasSubstr("archive '" + archive.filename().string() + "'"));
    EXPECT_THAT(result.status().message(), HasSubstr(reason));
    EXPECT_EQ(Snapshot(root_), before);
  }

  fs::path root_;
  fs::path inputs_;
  fs::path destination_;
};

TEST(IsArchiveNameTest, RecognizesArchiveSuffixesCaseInsensitively) {
  struct Case {
    const char* name;
    bool expected;
  };
  const Case cases[] = {{"data.zip", true},      {"DATA.ZIP", true},  {"model.tar.gz", true},
                        {"model.TAR.GZ", true},  {"model.tgz", true}, {"x.tar", true},
                        {"dir/x.Tgz", true},     {"data.csv", false}, {"data.gz", false},
                        {"data.zip.bak", false}, {"zip", false},      {".zip", false},
                        {".tar.gz", false},      {"", false},         {"archive.tar.bz2", false},
                        {"a.tar.gz.part", false}};
  for (const Case& test : cases) {
    EXPECT_EQ(IsArchiveName(test.name), test.expected) << test.name;
  }
}

TEST_F(ArchiveTest, PackThenUnpackRoundTripsTreeContentAndModes) {
  fs::path model = root_ / "model";
  fs::create_directories(model / "sub" / "deeper");
  fs::create_directories(model / "empty");
  std::string binary = RandomBytes(3 * 1024 * 1024 + 17, 1);  // more than one 1 MiB chunk
  WriteBytes(model / "model.json", "{\"layers\": 3}\n");
  WriteBytes(model / "sub" / "weights.bin", binary);
  WriteBytes(model / "sub" / "deeper" / "run.sh", "#!/bin/sh\necho hi\n");
  fs::permissions(model / "sub" / "deeper" / "run.sh", fs::perms::owner_all);
  fs::create_symlink("sub/weights.bin", model / "latest");

  fs::path archive = root_ / "model.tar.gz";
  ASSERT_TRUE(PackTarGz(model, archive).ok());
  // Entries at the archive root, SageMaker style: no "./" prefix, no absolute paths.
  for (const std::string& name : testing::ListArchive(archive)) {
    EXPECT_FALSE(name.starts_with("./") || name.starts_with("/")) << name;
  }

  Result<std::vector<std::string>> files = Unpack(archive, destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("model.json", "sub/deeper/run.sh", "sub/weights.bin"));
  EXPECT_EQ(ReadBytes(destination_ / "sub" / "weights.bin"), binary);
  EXPECT_EQ(ReadBytes(destination_ / "model.json"), "{\"layers\": 3}\n");
  EXPECT_TRUE(fs::is_directory(destination_ / "empty"));
  EXPECT_EQ(fs::read_symlink(destination_ / "latest"), "sub/weights.bin");
  fs::perms script = fs::status(destination_ / "sub" / "deeper" / "run.sh").permissions();
  EXPECT_NE(script & fs::perms::owner_exec, fs::perms::none);
  fs::perms data = fs::status(destination_ / "model.json").permissions();
  EXPECT_EQ(data & fs::perms::owner_exec, fs::perms::none);
}

TEST_F(ArchiveTest, PackThenUnpackKeepsNonAsciiNamesByteForByte) {
  // The process runs in the "C" locale, where libarchive cannot convert such names: they must
  // still pass through unchanged rather than fail or get mangled.
  fs::path model = root_ / "model";
  fs::create_directories(model / "données");
  WriteBytes(model / "données" / "éte.csv", "a,b\n");
  fs::path archive = root_ / "model.tar.gz";
  ASSERT_TRUE(PackTarGz(model, archive).ok());
  Result<std::vector<std::string>> files = Unpack(archive, destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("données/éte.csv"));
  EXPECT_EQ(ReadBytes(destination_ / "données" / "éte.csv"), "a,b\n");
}

TEST_F(ArchiveTest, PackingAnEmptyDirectoryGivesAValidEmptyArchive) {
  fs::path empty = root_ / "empty";
  fs::create_directories(empty);
  fs::path archive = root_ / "empty.tar.gz";
  ASSERT_TRUE(PackTarGz(empty, archive).ok());
  Run("tar -tzf '" + archive.string() + "' > /dev/null");
  Result<std::vector<std::string>> files = Unpack(archive, destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, IsEmpty());
  EXPECT_THAT(Snapshot(destination_), IsEmpty());
}

TEST_F(ArchiveTest, PackingIntoTheDirectoryItselfLeavesTheArchiveOut) {
  fs::path model = root_ / "model";
  fs::create_directories(model);
  WriteBytes(model / "a.txt", "a");
  ASSERT_TRUE(PackTarGz(model, model / "model.tar.gz").ok());
  EXPECT_THAT(testing::ListArchive(model / "model.tar.gz"), ElementsAre("a.txt"));
  EXPECT_THAT(Snapshot(model), ElementsAre("a.txt", "model.tar.gz"));  // no temp file left
}

TEST_F(ArchiveTest, PackingAMissingDirectoryFailsWithoutLeavingAFile) {
  Status status = PackTarGz(root_ / "absent", root_ / "out.tar.gz");
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("absent"));
  EXPECT_FALSE(fs::exists(root_ / "out.tar.gz"));
}

TEST_F(ArchiveTest, UnpacksAZipMadeByInfoZip) {
  fs::path source = root_ / "source";
  fs::create_directories(source / "images");
  WriteBytes(source / "train.csv", "a,b\n1,2\n");
  WriteBytes(source / "images" / "1.bin", RandomBytes(100'000, 2));
  WriteBytes(source / "tool", "#!/bin/sh\n");
  fs::permissions(source / "tool", fs::perms::owner_all);
  Run("cd '" + source.string() + "' && zip -qr '" + Input("data.zip").string() + "' .");

  Result<std::vector<std::string>> files = Unpack(Input("data.zip"), destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("images/1.bin", "tool", "train.csv"));
  EXPECT_EQ(ReadBytes(destination_ / "images" / "1.bin"), ReadBytes(source / "images" / "1.bin"));
  EXPECT_NE(fs::status(destination_ / "tool").permissions() & fs::perms::owner_exec,
            fs::perms::none);
}

TEST_F(ArchiveTest, UnpacksTarAndTarGzMadeByGnuTarWithDotSlashNames) {
  fs::path source = root_ / "source";
  fs::create_directories(source / "sub");
  WriteBytes(source / "a.txt", "alpha");
  WriteBytes(source / "sub" / "b.txt", "beta");
  Run("tar -C '" + source.string() + "' -cf '" + Input("plain.tar").string() + "' .");
  Run("tar -C '" + source.string() + "' -czf '" + Input("packed.tgz").string() + "' .");

  for (const char* name : {"plain.tar", "packed.tgz"}) {
    fs::path into = root_ / (std::string("out-") + name);
    fs::create_directories(into);
    Result<std::vector<std::string>> files = Unpack(Input(name), into);
    ASSERT_TRUE(files.ok()) << name << ": " << files.status().ToString();
    EXPECT_THAT(*files, ElementsAre("a.txt", "sub/b.txt")) << name;
    EXPECT_EQ(ReadBytes(into / "sub" / "b.txt"), "beta") << name;
  }
}

TEST_F(ArchiveTest, RefusesZipSlip) {
  WriteTestArchive(Input("data.zip"), Format::kZip,
                   {File("fine.txt", "fine"), File("../evil.txt", "evil")});
  ExpectRefused(Input("data.zip"), StatusCode::kInvalidArgument,
                "entry '../evil.txt' escapes the destination");
}

TEST_F(ArchiveTest, RefusesDotDotInTheMiddleOfAPath) {
  WriteTestArchive(Input("mid.tar"), Format::kTar, {File("a/../../evil.txt", "evil")});
  ExpectRefused(Input("mid.tar"), StatusCode::kInvalidArgument,
                "entry 'a/../../evil.txt' escapes the destination");
}

TEST_F(ArchiveTest, RefusesAbsolutePath) {
  std::string target = (root_ / "evil-absolute").string();
  WriteTestArchive(Input("abs.tar"), Format::kTar, {File(target, "evil")});
  ExpectRefused(Input("abs.tar"), StatusCode::kInvalidArgument,
                "entry '" + target + "' has an absolute path");
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(ArchiveTest, RefusesSymlinkEscapingThenWritingThroughIt) {
  WriteTestArchive(Input("link.tar"), Format::kTar,
                   {Symlink("link", "../../etc"), File("link/passwd", "root::0:0::/:/bin/sh\n")});
  ExpectRefused(Input("link.tar"), StatusCode::kInvalidArgument,
                "symlink 'link' -> '../../etc' escapes the destination");
}

TEST_F(ArchiveTest, RefusesAbsoluteSymlink) {
  WriteTestArchive(Input("abslink.zip"), Format::kZip, {Symlink("etc", "/etc")});
  ExpectRefused(Input("abslink.zip"), StatusCode::kInvalidArgument,
                "symlink 'etc' -> '/etc' escapes the destination");
}

TEST_F(ArchiveTest, RefusesSymlinkThatEscapesOnlyThroughAnotherSymlink) {
  // Read as text "q" points to "d"; the kernel resolves d/p first, to the root, and then climbs.
  WriteTestArchive(Input("chain.tar"), Format::kTar,
                   {Directory("d"), Symlink("q", "d/p/.."), Symlink("d/p", "..")});
  ExpectRefused(Input("chain.tar"), StatusCode::kInvalidArgument,
                "symlink 'q' -> 'd/p/..' escapes the destination");
}

TEST_F(ArchiveTest, RefusesSymlinkThatEscapesThroughASymlinkAlreadyInTheDestination) {
  fs::create_directory_symlink(root_, destination_ / "outside");
  WriteTestArchive(Input("via.tar"), Format::kTar, {Symlink("x", "outside/inputs")});
  ExpectRefused(Input("via.tar"), StatusCode::kInvalidArgument,
                "symlink 'x' -> 'outside/inputs' escapes the destination");
}

TEST_F(ArchiveTest, RefusesWritingThroughASymlinkEvenOneInside) {
  WriteTestArchive(Input("through.tar"), Format::kTar,
                   {Directory("sub"), Symlink("link", "sub"), File("link/x.txt", "x")});
  ExpectRefused(Input("through.tar"), StatusCode::kInvalidArgument,
                "entry 'link/x.txt' goes through the symlink 'link'");
}

TEST_F(ArchiveTest, KeepsSymlinkThatStaysInside) {
  WriteTestArchive(Input("latest.tar"), Format::kTar,
                   {File("v1/model.bin", "weights"), Symlink("latest", "v1/model.bin"),
                    Symlink("v1/self", "../v1")});
  Result<std::vector<std::string>> files = Unpack(Input("latest.tar"), destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("v1/model.bin"));
  EXPECT_EQ(fs::read_symlink(destination_ / "latest"), "v1/model.bin");
  EXPECT_EQ(ReadBytes(destination_ / "latest"), "weights");
}

TEST_F(ArchiveTest, RefusesHardlinkEscaping) {
  WriteTestArchive(Input("hard.tar"), Format::kTar, {Hardlink("h", "../../etc/passwd")});
  ExpectRefused(Input("hard.tar"), StatusCode::kInvalidArgument,
                "hardlink 'h' -> '../../etc/passwd' escapes the destination");
  WriteTestArchive(Input("hardabs.tar"), Format::kTar, {Hardlink("h", "/etc/passwd")});
  ExpectRefused(Input("hardabs.tar"), StatusCode::kInvalidArgument,
                "hardlink 'h' -> '/etc/passwd' escapes the destination");
}

TEST_F(ArchiveTest, RefusesHardlinkToAFileTheArchiveDidNotWrite) {
  WriteBytes(destination_ / "secret", "s");
  WriteTestArchive(Input("hardin.tar"), Format::kTar, {Hardlink("h", "secret")});
  ExpectRefused(Input("hardin.tar"), StatusCode::kInvalidArgument,
                "does not point to a file unpacked earlier from the archive");
}

TEST_F(ArchiveTest, UnpacksHardlinkToAnEarlierFile) {
  WriteTestArchive(Input("hardok.tar"), Format::kTar,
                   {File("a/data.bin", "payload"), Hardlink("b/copy.bin", "a/data.bin")});
  Result<std::vector<std::string>> files = Unpack(Input("hardok.tar"), destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("a/data.bin", "b/copy.bin"));
  EXPECT_EQ(ReadBytes(destination_ / "b" / "copy.bin"), "payload");
}

TEST_F(ArchiveTest, RefusesFifoEntry) {
  WriteTestArchive(Input("fifo.tar"), Format::kTar, {File("ok.txt", "ok"), Fifo("pipe")});
  ExpectRefused(Input("fifo.tar"), StatusCode::kInvalidArgument,
                "entry 'pipe' is a device, fifo or socket");
}

TEST_F(ArchiveTest, StopsASizeBombAtTheLimitLeavingNothing) {
  WriteTestArchive(Input("bomb.zip"), Format::kZip,
                   {File("zeros.bin", std::string(10 << 20, '\0'))});
  ASSERT_LT(fs::file_size(Input("bomb.zip")), 100'000u);  // it really is a bomb
  ExpectRefused(Input("bomb.zip"), StatusCode::kResourceExhausted,
                "unpacked size passes the limit of 1048576 bytes", {.max_total_bytes = 1 << 20});
}

TEST_F(ArchiveTest, StopsASizeBombInsideTheFirstEntry) {
  // Were the first entry written in full, the second one's escape would be the reported error.
  WriteTestArchive(Input("early.zip"), Format::kZip,
                   {File("zeros.bin", std::string(10 << 20, '\0')), File("../late", "x")});
  ExpectRefused(Input("early.zip"), StatusCode::kResourceExhausted, "passes the limit",
                {.max_total_bytes = 1 << 20});
}

// Rewrites the uncompressed size in every local and central zip header: the bomb that lies.
void ClaimUncompressedSize(const fs::path& zip, uint32_t size) {
  std::string bytes = ReadFile(zip).value();
  auto patch = [&](const std::string& signature, size_t field) {
    for (size_t at = bytes.find(signature); at != std::string::npos;
         at = bytes.find(signature, at + 1)) {
      for (int i = 0; i < 4; ++i) bytes[at + field + i] = static_cast<char>(size >> (8 * i));
    }
  };
  patch(std::string("PK\x03\x04", 4), 22);
  patch(std::string("PK\x01\x02", 4), 24);
  WriteBytes(zip, bytes);
}

TEST_F(ArchiveTest, CountsBytesWrittenNotTheSizeTheHeaderClaims) {
  WriteBytes(root_ / "zeros.bin", std::string(10 << 20, '\0'));
  Run("cd '" + root_.string() + "' && zip -q '" + Input("liar.zip").string() + "' zeros.bin");
  ClaimUncompressedSize(Input("liar.zip"), 100);
  ExpectRefused(Input("liar.zip"), StatusCode::kResourceExhausted,
                "unpacked size passes the limit of 1048576 bytes", {.max_total_bytes = 1 << 20});
  // Under a generous limit the lie still fails the unpack, as corruption.
  ExpectRefused(Input("liar.zip"), StatusCode::kInvalidArgument, "entry 'zeros.bin' is corrupt");
}

TEST_F(ArchiveTest, StopsAZipBombAtTheExpansionRatioWithTheDefaultLimits) {
  // 50 MiB of zeros deflate to about 50 KB: 1000:1, where the default allows 100:1 past 16 MiB.
  WriteTestArchive(Input("zeros.zip"), Format::kZip,
                   {File("zeros.bin", std::string(50 << 20, '\0'))});
  ASSERT_LT(fs::file_size(Input("zeros.zip")), 200'000u);
  ExpectRefused(Input("zeros.zip"), StatusCode::kResourceExhausted,
                "unpacks to more than 16777216 bytes, over 100 times its own");
}

TEST_F(ArchiveTest, StopsABombEntryHiddenBehindIncompressibleData) {
  // The archive as a whole expands less than 2:1; its second entry alone is 1000:1. In a
  // tar.gz the entries share one compressed stream; a zip compresses each on its own.
  for (const auto& [name, format] :
       {std::pair{"mixed.tar.gz", Format::kTarGz}, std::pair{"mixed.zip", Format::kZip}}) {
    WriteTestArchive(Input(name), format,
                     {File("noise.bin", RandomBytes(4 << 20, 7)),
                      File("zeros.bin", std::string(40 << 20, '\0'))});
    ExpectRefused(Input(name), StatusCode::kResourceExhausted,
                  "entry 'zeros.bin' expands more than 100 times the",
                  {.max_expansion_ratio = 100, .expansion_floor_bytes = 1 << 20});
  }
}

TEST_F(ArchiveTest, UnpacksRepetitiveDataBelowTheFloorAndWithTheRatioOff) {
  WriteTestArchive(Input("blank.zip"), Format::kZip,
                   {File("blank.txt", std::string(12 << 20, ' '))});
  Result<std::vector<std::string>> files = Unpack(Input("blank.zip"), destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(fs::file_size(destination_ / "blank.txt"), 12u << 20);
  fs::remove(destination_ / "blank.txt");
  files = Unpack(Input("blank.zip"), destination_,
                 {.max_expansion_ratio = 0, .expansion_floor_bytes = 0});
  EXPECT_TRUE(files.ok()) << files.status().ToString();
}

TEST_F(ArchiveTest, StopsAtTheFreeSpaceOfTheDestinationLessTheMargin) {
  WriteTestArchive(Input("data.tar"), Format::kTar, {File("data.bin", RandomBytes(1 << 20, 3))});
  // No disk has 2^62 bytes free: the room left after the margin is nothing.
  ExpectRefused(Input("data.tar"), StatusCode::kResourceExhausted,
                "unpacked size passes the free space of the destination's disk",
                {.keep_free_bytes = 1ull << 62});
}

TEST_F(ArchiveTest, NamesWhatTheTotalLimitStandsFor) {
  WriteTestArchive(Input("data.tar"), Format::kTar, {File("data.bin", RandomBytes(1 << 20, 3))});
  ExpectRefused(Input("data.tar"), StatusCode::kResourceExhausted,
                "unpacked size passes the job's volume",
                {.max_total_bytes = 1000, .max_total_description = "the job's volume"});
}

TEST_F(ArchiveTest, StopsAnEntryCountBomb) {
  std::vector<testing::TestEntry> entries;
  for (int i = 0; i < 1001; ++i) entries.push_back(File("f" + std::to_string(i), ""));
  WriteTestArchive(Input("many.tar"), Format::kTar, entries);
  ExpectRefused(Input("many.tar"), StatusCode::kResourceExhausted,
                "archive 'many.tar': more than 1000 entries (the limit)", {.max_entries = 1000});
  Result<std::vector<std::string>> at_limit =
      Unpack(Input("many.tar"), destination_, {.max_entries = 1001});
  EXPECT_TRUE(at_limit.ok()) << at_limit.status().ToString();
}

TEST_F(ArchiveTest, RefusesToOverwriteAnExistingFileAndWritesNothing) {
  WriteBytes(destination_ / "a.txt", "old");
  WriteTestArchive(Input("clash.zip"), Format::kZip, {File("a.txt", "new"), File("b.txt", "b")});
  ExpectRefused(Input("clash.zip"), StatusCode::kAlreadyExists,
                "'a.txt' already exists in the destination");
  EXPECT_EQ(ReadBytes(destination_ / "a.txt"), "old");
}

TEST_F(ArchiveTest, RefusesToReplaceAnExistingFileInsideAMergedDirectory) {
  fs::create_directories(destination_ / "sub");
  WriteBytes(destination_ / "sub" / "a.txt", "old");
  WriteTestArchive(Input("deep.tar"), Format::kTar,
                   {File("first.txt", "1"), File("sub/a.txt", "new")});
  ExpectRefused(Input("deep.tar"), StatusCode::kAlreadyExists,
                "'sub/a.txt' already exists in the destination");
}

TEST_F(ArchiveTest, MergesIntoAnExistingDirectory) {
  fs::create_directories(destination_ / "sub");
  WriteBytes(destination_ / "sub" / "old.txt", "old");
  WriteTestArchive(Input("merge.tar"), Format::kTar,
                   {Directory("sub"), File("sub/new.txt", "new")});
  Result<std::vector<std::string>> files = Unpack(Input("merge.tar"), destination_);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_THAT(*files, ElementsAre("sub/new.txt"));
  EXPECT_THAT(Snapshot(destination_), ElementsAre("sub", "sub/new.txt", "sub/old.txt"));
}

TEST_F(ArchiveTest, RandomBytesAreACorruptArchive) {
  WriteBytes(Input("random.zip"), RandomBytes(64 * 1024, 3));
  ExpectRefused(Input("random.zip"), StatusCode::kInvalidArgument,
                "is corrupt or not a zip/tar archive");
}

TEST_F(ArchiveTest, DamagedZipDataIsCorrupt) {
  WriteTestArchive(Input("damaged.zip"), Format::kZip,
                   {File("a.txt", "a"), File("data.bin", RandomBytes(200'000, 4))});
  std::string bytes = ReadFile(Input("damaged.zip")).value();
  bytes[bytes.size() / 2] ^= 0x55;  // inside data.bin's (incompressible) stored bytes
  WriteBytes(Input("damaged.zip"), bytes);
  ExpectRefused(Input("damaged.zip"), StatusCode::kInvalidArgument, "entry 'data.bin' is corrupt");
}

TEST_F(ArchiveTest, TruncatedTarGzIsCorrupt) {
  WriteTestArchive(Input("cut.tar.gz"), Format::kTarGz,
                   {File("data.bin", RandomBytes(200'000, 5))});
  fs::resize_file(Input("cut.tar.gz"), fs::file_size(Input("cut.tar.gz")) / 2);
  ExpectRefused(Input("cut.tar.gz"), StatusCode::kInvalidArgument, "corrupt");
}

TEST_F(ArchiveTest, MissingArchiveIsNotFound) {
  Result<std::vector<std::string>> result = Unpack(Input("absent.zip"), destination_);
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("archive 'absent.zip'"));
}

TEST_F(ArchiveTest, MissingDestinationIsNotFound) {
  WriteTestArchive(Input("ok.zip"), Format::kZip, {File("a.txt", "a")});
  Result<std::vector<std::string>> result = Unpack(Input("ok.zip"), root_ / "absent");
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("absent"));
}

}  // namespace
}  // namespace trainyard::archive
