#include "wrapper/checkpoint_sync.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "common/files.h"
#include "contract/job_definition.h"
#include "support/test_paths.h"
#include "wrapper/supervisor.h"
#include "wrapper/wrapper.h"

namespace trainyard::wrapper {
namespace {
namespace fs = std::filesystem;
using std::chrono::milliseconds;

// WriteFileAtomic into a directory made first.
Status Write(const fs::path& path, const std::string& content) {
  TY_RETURN_IF_ERROR(MakeDirectories(path.parent_path()));
  return WriteFileAtomic(path, content);
}

// A directory location that counts its stores: how often a sync really stored is the behaviour.
class CountingLocation : public CheckpointLocation {
 public:
  explicit CountingLocation(fs::path directory)
      : inner_(DirectoryCheckpointLocation(std::move(directory))) {}
  std::string Describe() const override { return inner_->Describe(); }
  Status Fetch(const fs::path& target) const override { return inner_->Fetch(target); }
  Status Store(const fs::path& archive) const override {
    ++stores;
    return inner_->Store(archive);
  }
  mutable std::atomic<int> stores{0};

 private:
  std::unique_ptr<CheckpointLocation> inner_;
};

class CheckpointSyncTest : public ::testing::Test {
 protected:
  CheckpointSyncOptions Options(std::shared_ptr<const CheckpointLocation> location,
                                const fs::path& checkpoint_dir) {
    return {.checkpoint_dir = checkpoint_dir,
            .scratch_dir = dir_.path() / "scratch",
            .location = std::move(location),
            .interval = milliseconds(20),
            .say = [this](const std::string& line) {
              std::lock_guard lock(said_mutex_);
              said_ += line + "\n";
            }};
  }
  std::string Said() {
    std::lock_guard lock(said_mutex_);
    return said_;
  }

  testing::TempDir dir_;
  fs::path store_ = dir_.path() / "store";
  fs::path checkpoints_ = dir_.path() / "ml" / "checkpoints";
  std::mutex said_mutex_;
  std::string said_;
};

TEST_F(CheckpointSyncTest, StoresOnlyWhenSomethingChanged) {
  auto location = std::make_shared<CountingLocation>(store_);
  CheckpointSync sync(Options(location, checkpoints_));
  ASSERT_TRUE(sync.Restore().ok());
  EXPECT_NE(Said().find("checkpoint: none stored yet in " + store_.string()), std::string::npos)
      << Said();
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  EXPECT_EQ(location->stores, 0) << "an empty dir that stayed empty is not stored";

  ASSERT_TRUE(Write(checkpoints_ / "step-1" / "weights.bin", "one").ok());
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  EXPECT_EQ(location->stores, 1);
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  EXPECT_EQ(location->stores, 1) << "unchanged: not stored again";

  ASSERT_TRUE(Write(checkpoints_ / "step-1" / "weights.bin", "two!").ok());
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  EXPECT_EQ(location->stores, 2);
  fs::remove_all(checkpoints_ / "step-1");
  ASSERT_TRUE(sync.SyncIfChanged().ok());
  EXPECT_EQ(location->stores, 3) << "a removal is a change";
  EXPECT_TRUE(fs::exists(store_ / kCheckpointArchiveName));
  EXPECT_NE(Said().find("checkpoint: stored "), std::string::npos) << Said();
}

TEST_F(CheckpointSyncTest, TheNextRunRestoresWhatTheLastOneStored) {
  {
    CheckpointSync first(Options(DirectoryCheckpointLocation(store_), checkpoints_));
    ASSERT_TRUE(first.Restore().ok());
    ASSERT_TRUE(Write(checkpoints_ / "iteration", "40").ok());
    ASSERT_TRUE(Write(checkpoints_ / "nested" / "w.bin", "weights").ok());
    ASSERT_TRUE(first.Finish().ok());
  }
  fs::path next_root = dir_.path() / "ml-2" / "checkpoints";  // a new attempt's root
  auto location = std::make_shared<CountingLocation>(store_);
  CheckpointSync second(Options(location, next_root));
  ASSERT_TRUE(second.Restore().ok());
  EXPECT_EQ(ReadFile(next_root / "iteration").value(), "40");
  EXPECT_EQ(ReadFile(next_root / "nested" / "w.bin").value(), "weights");
  EXPECT_NE(Said().find("checkpoint: restored 2 files from " + store_.string()), std::string::npos)
      << Said();
  ASSERT_TRUE(second.Finish().ok());
  EXPECT_EQ(location->stores, 0) << "what was restored is not stored back";
}

// A promoted trial: its own location is empty, so it starts from its parent's; once it has its
// own, the parent's is no longer read. The parent's is never written.
TEST_F(CheckpointSyncTest, RestoresFromTheParentOnlyWhenItsOwnLocationHoldsNone) {
  fs::path parent_store = dir_.path() / "parent-store";
  {
    CheckpointSync parent(Options(DirectoryCheckpointLocation(parent_store), checkpoints_));
    ASSERT_TRUE(parent.Restore().ok());
    ASSERT_TRUE(Write(checkpoints_ / "iteration", "parent").ok());
    ASSERT_TRUE(parent.Finish().ok());
  }
  auto parent_archive = ReadFile(parent_store / kCheckpointArchiveName).value();
  auto run = [&](const fs::path& root, const std::string& write) {
    CheckpointSyncOptions options = Options(DirectoryCheckpointLocation(store_), root);
    options.restore_from = DirectoryCheckpointLocation(parent_store);
    CheckpointSync sync(std::move(options));
    EXPECT_TRUE(sync.Restore().ok());
    auto read = ReadFile(root / "iteration");
    std::string found = read.ok() ? *read : "";
    if (!write.empty()) EXPECT_TRUE(Write(root / "iteration", write).ok());
    EXPECT_TRUE(sync.Finish().ok());
    return found;
  };
  EXPECT_EQ(run(dir_.path() / "a" / "checkpoints", "child"), "parent");
  EXPECT_EQ(run(dir_.path() / "b" / "checkpoints", ""), "child");
  EXPECT_EQ(ReadFile(parent_store / kCheckpointArchiveName).value(), parent_archive);
}

TEST_F(CheckpointSyncTest, FilesAlreadyInTheCheckpointDirAreKept) {
  {
    CheckpointSync first(Options(DirectoryCheckpointLocation(store_), checkpoints_));
    ASSERT_TRUE(first.Restore().ok());
    ASSERT_TRUE(Write(checkpoints_ / "iteration", "old").ok());
    ASSERT_TRUE(first.Finish().ok());
  }
  fs::path other = dir_.path() / "other" / "checkpoints";
  ASSERT_TRUE(Write(other / "iteration", "newer").ok());
  CheckpointSync sync(Options(DirectoryCheckpointLocation(store_), other));
  ASSERT_TRUE(sync.Restore().ok());
  EXPECT_EQ(ReadFile(other / "iteration").value(), "newer");
  EXPECT_NE(Said().find("already holds files: kept"), std::string::npos) << Said();
}

// A location whose archive is not one (damaged by hand) fails the restore, naming it, instead of
// a job that starts afresh and overwrites the progress.
TEST_F(CheckpointSyncTest, AnArchiveThatCannotBeUnpackedFailsTheRestore) {
  ASSERT_TRUE(Write(store_ / kCheckpointArchiveName, "not an archive").ok());
  CheckpointSync sync(Options(DirectoryCheckpointLocation(store_), checkpoints_));
  Status restored = sync.Restore();
  EXPECT_FALSE(restored.ok());
  EXPECT_NE(restored.message().find("restoring the checkpoint from '" + store_.string()),
            std::string::npos)
      << restored.ToString();
}

// Stores keep replacing the archive while restores read it: every restore unpacks a whole
// archive, one of those stored, never a torn one; a store cut short leaves only its temporary.
TEST_F(CheckpointSyncTest, ARestoreNeverSeesATornArchive) {
  const std::string big_a(2 << 20, 'a'), big_b(3 << 20, 'b');
  std::atomic<bool> done{false};
  std::thread writer([&] {
    CheckpointSync sync(Options(DirectoryCheckpointLocation(store_), checkpoints_));
    EXPECT_TRUE(sync.Restore().ok());
    for (int round = 0; round < 20; ++round) {
      EXPECT_TRUE(Write(checkpoints_ / "w.bin", round % 2 ? big_b : big_a).ok());
      EXPECT_TRUE(Write(checkpoints_ / "round", std::to_string(round)).ok());
      EXPECT_TRUE(sync.SyncIfChanged().ok());
    }
    done = true;
  });
  int restores = 0;
  while (!done || restores == 0) {
    fs::path root = dir_.path() / ("reader-" + std::to_string(restores++)) / "checkpoints";
    CheckpointSyncOptions options = Options(DirectoryCheckpointLocation(store_), root);
    options.scratch_dir = root.parent_path() / "scratch";
    CheckpointSync reader(std::move(options));
    ASSERT_TRUE(reader.Restore().ok()) << Said();
    if (!fs::exists(root / "round")) continue;  // before the first store
    int round = std::stoi(ReadFile(root / "round").value());
    EXPECT_EQ(ReadFile(root / "w.bin").value(), round % 2 ? big_b : big_a) << "round " << round;
    fs::remove_all(root.parent_path());
  }
  writer.join();

  // A store killed between its copy and its rename: the temporary is there, the archive intact.
  std::string stored = ReadFile(store_ / kCheckpointArchiveName).value();
  ASSERT_TRUE(Write(store_ / (".checkpoints.tar.gz.tmp.99999"), "torn").ok());
  fs::path root = dir_.path() / "after-crash" / "checkpoints";
  CheckpointSync reader(Options(DirectoryCheckpointLocation(store_), root));
  ASSERT_TRUE(reader.Restore().ok());
  EXPECT_EQ(ReadFile(root / "round").value(), "19");
}

TEST_F(CheckpointSyncTest, ThePeriodicSyncStoresWhileTheCommandRuns) {
  auto location = std::make_shared<CountingLocation>(store_);
  CheckpointSync sync(Options(location, checkpoints_));
  ASSERT_TRUE(sync.Restore().ok());
  sync.StartPeriodicSync();
  ASSERT_TRUE(Write(checkpoints_ / "iteration", "5").ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (location->stores == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(location->stores, 1) << Said();
  ASSERT_TRUE(sync.Finish().ok());
  EXPECT_EQ(location->stores, 1) << "nothing changed since";
}

// trainyard-wrap with TRAINYARD_CHECKPOINT_STORE: a command stopped by SIGTERM writes its last
// checkpoint in its handler; the periodic sync (an hour here) never ran, the sync after the
// command's end stores it. The next run restores it before its command starts.
TEST(RunWrapperCheckpointTest, WhatTheCommandWritesAtSigtermIsStoredAndRestoredNextRun) {
  testing::TempDir dir;
  fs::path store = dir.path() / "store";
  auto run = [&](const fs::path& root_dir, const std::string& script, bool stop) {
    contract::MlRoot root(root_dir);
    contract::JobDefinition job;
    job.job_name = "checkpointed";
    EXPECT_TRUE(contract::WriteConfigFiles(root, job).ok());
    fs::path started = dir.path() / "started";
    fs::remove(started);
    pid_t child = ::fork();
    if (child == 0) {
      const char* path = std::getenv("PATH");
      auto options = ParseWrapperOptions({"--grace-period", "30", "--", "sh", "-c", script},
                                         {{"TRAINYARD_ML_ROOT", root.root().string()},
                                          {"TRAINYARD_CHECKPOINT_STORE", store.string()},
                                          {"TRAINYARD_CHECKPOINT_INTERVAL_SECONDS", "3600"},
                                          {"STARTED", started.string()},
                                          {"PATH", path ? path : "/usr/bin:/bin"}});
      if (!options.ok()) ::_exit(99);
      ::_exit(RunWrapper(*options, {{"TRAINYARD_ML_ROOT", root.root().string()},
                                    {"STARTED", started.string()},
                                    {"PATH", path ? path : "/usr/bin:/bin"}}));
    }
    if (stop) {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!fs::exists(started) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(10));
      }
      ::kill(child, SIGTERM);
    }
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, 0), child);
    auto log = ReadFile(root.log_file());
    return log.ok() ? *log : std::string();
  };
  std::string first = run(dir.path() / "run-1",
                          "trap 'echo 7 > \"$TRAINYARD_ML_ROOT/checkpoints/iteration\"; exit 143' "
                          "TERM; touch \"$STARTED\"; while :; do sleep 0.05; done",
                          true);
  EXPECT_NE(first.find("checkpoint: stored "), std::string::npos) << first;
  std::string second =
      run(dir.path() / "run-2",
          "echo resumed at $(cat \"$TRAINYARD_ML_ROOT/checkpoints/iteration\")", false);
  EXPECT_NE(second.find("checkpoint: restored 1 files"), std::string::npos) << second;
  EXPECT_NE(second.find("resumed at 7"), std::string::npos) << second;
}

}  // namespace
}  // namespace trainyard::wrapper
