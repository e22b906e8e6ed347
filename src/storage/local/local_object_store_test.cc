#include "storage/local/local_object_store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/files.h"
#include "storage/local/posix_file.h"
#include "storage/object_store_conformance.h"
#include "support/test_paths.h"

namespace trainyard::storage {
namespace {
namespace fs = std::filesystem;

Result<ObjectStorePtr> MakeLocal(const fs::path& scratch_dir) {
  TY_ASSIGN_OR_RETURN(auto store, LocalObjectStore::Open({.root = scratch_dir / "store"}));
  return ObjectStorePtr(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(Local, ObjectStoreConformanceTest,
                         ::testing::Values(ObjectStoreFactory{"local", MakeLocal}),
                         [](const auto& info) { return info.param.name; });

// Every path under `directory` (files and directories) with its content for files.
std::vector<std::string> Snapshot(const fs::path& directory) {
  std::vector<std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(directory)) {
    std::string line = fs::relative(entry.path(), directory).string();
    if (entry.is_regular_file()) line += "=" + ReadFile(entry.path()).value();
    entries.push_back(line);
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

std::unique_ptr<LocalObjectStore> OpenLocal(const fs::path& root) {
  auto store = LocalObjectStore::Open({.root = root});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST(LocalObjectStoreTest, HostileKeysTouchNothingOutsideTheRoot) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "outside" / "x");
  std::ofstream(dir.path() / "outside" / "victim") << "keep me";
  std::ofstream(dir.path() / "x") << "keep me too";
  fs::path root = dir.path() / "a" / "store";
  auto store = OpenLocal(root);
  ASSERT_NE(store, nullptr);
  std::ostringstream unused;
  std::istringstream source("evil");
  ASSERT_TRUE(store->Put("inside", source, 4).ok());

  std::vector<std::string> before = Snapshot(dir.path());
  for (const char* key : {"../x", "../../x", "a/../../x", "../../outside/victim", "/abs", "/tmp/x",
                          "a//b", "a/./b", "..", "../store/objects/inside"}) {
    std::istringstream evil("evil");
    EXPECT_FALSE(store->Put(key, evil, 4).ok()) << key;
    EXPECT_FALSE(store->Delete(key).ok()) << key;
    EXPECT_FALSE(store->Head(key).ok()) << key;
    EXPECT_FALSE(store->Get(key, unused).ok()) << key;
    EXPECT_TRUE(store->List(key)->objects.empty()) << key;
  }
  EXPECT_EQ(Snapshot(dir.path()), before);
  EXPECT_FALSE(fs::exists("/abs"));
}

TEST(LocalObjectStoreTest, SymlinkPlantedInTheTreeIsNotFollowed) {
  testing::TempDir dir;
  std::ofstream(dir.path() / "secret") << "outside";
  auto store = OpenLocal(dir.path() / "store");
  ASSERT_NE(store, nullptr);
  fs::create_symlink(dir.path() / "secret", dir.path() / "store" / "objects" / "link");
  std::ostringstream sink;
  EXPECT_FALSE(store->Get("link", sink).ok());
  EXPECT_EQ(sink.str(), "");
}

TEST(LocalObjectStoreTest, OpenCleansStaleTempFilesAndKeepsFreshOnes) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  ASSERT_NE(OpenLocal(root), nullptr);
  std::ofstream(root / "tmp" / "put-crashed") << "half an object";
  std::ofstream(root / "tmp" / "put-in-progress") << "another process is writing";
  fs::last_write_time(root / "tmp" / "put-crashed",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));

  ASSERT_NE(OpenLocal(root), nullptr);
  EXPECT_FALSE(fs::exists(root / "tmp" / "put-crashed"));
  EXPECT_TRUE(fs::exists(root / "tmp" / "put-in-progress"));

  auto store = LocalObjectStore::Open({.root = root, .stale_temp_age = std::chrono::seconds(0)});
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE(fs::is_empty(root / "tmp"));
}

// A store that others share (--objects) keeps a live Put's temp file, whatever its age, but
// removes at once what a killed one left (it kept every temp file younger than an hour).
TEST(LocalObjectStoreTest, OpenRemovesTempFilesNoLiveProcessHolds) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  ASSERT_NE(OpenLocal(root), nullptr);
  std::ofstream(root / "tmp" / "put-killed") << "half an object";
  fs::last_write_time(root / "tmp" / "put-killed",
                      fs::file_time_type::clock::now() - std::chrono::seconds(30));
  // A live Put of another process: its temp file, locked as TempFile locks it.
  std::ofstream(root / "tmp" / "put-live") << "being written";
  fs::last_write_time(root / "tmp" / "put-live",
                      fs::file_time_type::clock::now() - std::chrono::seconds(30));
  FileDescriptor live(::open((root / "tmp" / "put-live").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(live.valid());
  ASSERT_EQ(::flock(live.get(), LOCK_EX | LOCK_NB), 0);

  ASSERT_NE(OpenLocal(root), nullptr);
  EXPECT_FALSE(fs::exists(root / "tmp" / "put-killed"));
  EXPECT_TRUE(fs::exists(root / "tmp" / "put-live"));
}

TEST(LocalObjectStoreTest, FailedPutsLeaveNoTempFiles) {
  testing::TempDir dir;
  auto store = OpenLocal(dir.path() / "store");
  ASSERT_NE(store, nullptr);
  std::istringstream short_source("abc");
  EXPECT_FALSE(store->Put("k", short_source, 10).ok());
  std::istringstream wrong_sha("abc");
  EXPECT_FALSE(store->Put("k", wrong_sha, 3, {.expected_sha256_hex = std::string(64, '0')}).ok());
  EXPECT_TRUE(fs::is_empty(dir.path() / "store" / "tmp"));
  EXPECT_TRUE(fs::is_empty(dir.path() / "store" / "objects"));
}

TEST(LocalObjectStoreTest, StaleOrMissingSidecarIsRebuiltFromTheData) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  auto store = OpenLocal(root);
  ASSERT_NE(store, nullptr);
  std::istringstream source("abc");
  ASSERT_TRUE(store->Put("k", source, 3, {.content_type = "text/plain"}).ok());

  // What a crash between writing the sidecar and the rename leaves: the data of one version
  // under the sidecar of another. Here the data is replaced behind the store's back.
  ASSERT_TRUE(WriteFileAtomic(root / "objects" / "k", "xyz").ok());
  Result<ObjectInfo> head = store->Head("k");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->sha256_hex, "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282");

  fs::remove_all(root / "meta");
  head = store->Head("k");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->sha256_hex, "3608bca1e44ea6c4d268eb6db02260269892c0b42b86bbf1e77a6fa16c3c9282");
  EXPECT_FALSE(fs::is_empty(root / "meta"));  // rebuilt
}

// Concurrent Puts of one key, each with its own content type and metadata: whichever body is
// left, Head reports that same Put's metadata (the commit is one step, last writer wins).
TEST(LocalObjectStoreTest, ConcurrentPutsOfOneKeyKeepBodyAndMetadataTogether) {
  testing::TempDir dir;
  auto store = OpenLocal(dir.path() / "store");
  ASSERT_NE(store, nullptr);
  for (int round = 0; round < 30; ++round) {
    std::vector<std::thread> writers;
    for (int writer = 0; writer < 6; ++writer) {
      writers.emplace_back([&, writer] {
        std::string body(4096 * (writer + 1), static_cast<char>('a' + writer));
        std::istringstream source(body);
        PutOptions options{.content_type = "application/x-" + std::to_string(writer),
                           .metadata = {{"writer", std::to_string(writer)}}};
        EXPECT_TRUE(store->Put("race", source, body.size(), options).ok());
      });
    }
    for (std::thread& writer : writers) writer.join();
    Result<ObjectInfo> head = store->Head("race");
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    int writer = static_cast<int>(head->size / 4096) - 1;
    EXPECT_EQ(head->content_type, "application/x-" + std::to_string(writer)) << "round " << round;
    EXPECT_EQ(head->metadata, (ObjectMetadata{{"writer", std::to_string(writer)}}))
        << "round " << round;
  }
}

// A crash after a Put wrote its sidecar but before its data's rename: the sidecar names the new
// data, and still holds the entry of the data in place, which keeps its metadata.
TEST(LocalObjectStoreTest, CrashBeforeTheRenameKeepsTheOldVersionWhole) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  auto store = OpenLocal(root);
  ASSERT_NE(store, nullptr);
  std::istringstream first("abc");
  ASSERT_TRUE(
      store->Put("k", first, 3, {.content_type = "text/plain", .metadata = {{"v", "1"}}}).ok());
  fs::path sidecar;
  for (const auto& entry : fs::recursive_directory_iterator(root / "meta")) {
    if (entry.is_regular_file()) sidecar = entry.path();
  }
  ASSERT_FALSE(sidecar.empty());
  std::string saved_object = ReadFile(root / "objects" / "k").value();
  std::string saved_sidecar = ReadFile(sidecar).value();
  // The second Put's sidecar, with the data of the first put back as it was.
  fs::create_hard_link(root / "objects" / "k", root / "old-data");
  std::istringstream second("xyzw");
  ASSERT_TRUE(store->Put("k", second, 4, {.content_type = "text/csv"}).ok());
  fs::rename(root / "old-data", root / "objects" / "k");
  Result<ObjectInfo> head = store->Head("k");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 3u);
  EXPECT_EQ(head->content_type, "text/plain");
  EXPECT_EQ(head->metadata, (ObjectMetadata{{"v", "1"}}));
  EXPECT_NE(ReadFile(sidecar).value(), saved_sidecar);  // it is the second Put's
  EXPECT_EQ(ReadFile(root / "objects" / "k").value(), saved_object);
}

TEST(LocalObjectStoreTest, KeyThatIsAlsoAPrefixIsFailedPrecondition) {
  testing::TempDir dir;
  auto store = OpenLocal(dir.path() / "store");
  ASSERT_NE(store, nullptr);
  std::istringstream one("1"), two("2");
  ASSERT_TRUE(store->Put("a/b", one, 1).ok());
  EXPECT_EQ(store->Put("a", two, 1).status().code(), StatusCode::kFailedPrecondition);
  std::istringstream three("3");
  ASSERT_TRUE(store->Put("c", three, 1).ok());
  std::istringstream four("4");
  EXPECT_EQ(store->Put("c/d", four, 1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fs::is_empty(dir.path() / "store" / "tmp"));
}

// Sidecar files under `root`/meta.
size_t SidecarCount(const fs::path& root) {
  size_t count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root / "meta")) {
    if (entry.is_regular_file()) ++count;
  }
  return count;
}

// A Put whose data cannot be placed leaves no metadata for data the store does not hold.
TEST(LocalObjectStoreTest, APutThatCannotPlaceItsDataLeavesNoMetadata) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  auto store = OpenLocal(root);
  ASSERT_NE(store, nullptr);
  std::istringstream one("1"), two("2"), three("3");
  ASSERT_TRUE(store->Put("a/b", one, 1).ok());
  ASSERT_TRUE(store->Put("c", two, 1).ok());
  ASSERT_EQ(SidecarCount(root), 2u);
  EXPECT_EQ(store->Put("a", three, 1).status().code(), StatusCode::kFailedPrecondition);
  std::istringstream four("4");
  EXPECT_EQ(store->Put("c/d", four, 1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(SidecarCount(root), 2u);
  ASSERT_TRUE(store->Delete("a/b").ok());
  ASSERT_TRUE(store->Delete("c").ok());
  EXPECT_EQ(SidecarCount(root), 0u);
}

// The Delete of a key's last object prunes the directories it leaves empty, up to objects/; a
// Put under a sibling directory created meanwhile must not fail for it (the scheduler storing
// one job's outputs while `trainyard run` deletes another's handed-out ones).
TEST(LocalObjectStoreTest, PutsSucceedWhileDeletesPruneTheirParentDirectories) {
  testing::TempDir dir;
  fs::path root = dir.path() / "store";
  auto store = OpenLocal(root);
  ASSERT_NE(store, nullptr);
  // Each Put syncs its file and directory: the rounds are bounded by time as well as number.
  constexpr int kRounds = 3000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::atomic<bool> done = false;
  std::atomic<int> failures = 0;
  std::string first_failure;
  std::mutex failure_mutex;
  auto note = [&](const Status& status) {
    if (status.ok()) return;
    std::lock_guard lock(failure_mutex);
    if (failures++ == 0) first_failure = status.ToString();
  };
  // Deletes of a lone key under outputs/, each one pruning outputs/ itself.
  std::thread pruner([&] {
    while (!done) {
      std::istringstream body("x");
      note(store->Put("outputs/pruned/output/f", body, 1).status());
      note(store->Delete("outputs/pruned/output/f"));
    }
  });
  for (int round = 0;
       round < kRounds && failures == 0 && std::chrono::steady_clock::now() < deadline; ++round) {
    std::string key = "outputs/job-" + std::to_string(round) + "/output/f";
    std::istringstream body("y");
    note(store->Put(key, body, 1).status());
    note(store->Delete(key));
  }
  done = true;
  pruner.join();
  EXPECT_EQ(failures, 0) << first_failure;
  EXPECT_EQ(SidecarCount(root), 0u);
}

TEST(LocalObjectStoreTest, SegmentLongerThanNameMaxIsInvalidArgument) {
  testing::TempDir dir;
  auto store = OpenLocal(dir.path() / "store");
  ASSERT_NE(store, nullptr);
  std::istringstream source("x");
  EXPECT_EQ(store->Put(std::string(256, 's'), source, 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(LocalObjectStoreTest, RelativeRootIsRefused) {
  EXPECT_EQ(LocalObjectStore::Open({.root = "relative/store"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(OpenObjectStoreTest, FileUriOpensALocalStore) {
  testing::TempDir dir;
  Result<ObjectStorePtr> store = OpenObjectStore("file://" + (dir.path() / "store").string(), {});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::istringstream source("abc");
  ASSERT_TRUE((*store)->Put("via/uri", source, 3).ok());
  EXPECT_TRUE(fs::exists(dir.path() / "store" / "objects" / "via" / "uri"));
}

TEST(OpenObjectStoreTest, OtherUrisGiveAClearError) {
  Result<ObjectStorePtr> gcs = OpenObjectStore("gs://b", {});
  EXPECT_EQ(gcs.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(gcs.status().message(),
            "unsupported object store URI 'gs://b' (supported: file://, s3://)");
  for (const char* uri : {"file://host/path", "file://relative", "file:", "", "/plain/path"}) {
    EXPECT_EQ(OpenObjectStore(uri, {}).status().code(), StatusCode::kInvalidArgument) << uri;
  }
}

}  // namespace
}  // namespace trainyard::storage
