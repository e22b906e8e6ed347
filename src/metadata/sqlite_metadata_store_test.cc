#include "metadata/sqlite_metadata_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "metadata/buffered_progress_store_conformance.h"
#include "metadata/metadata_store_conformance.h"
#include "metadata/schema.h"
#include "support/test_paths.h"

namespace trainyard::metadata {
namespace {
namespace fs = std::filesystem;

Result<MetadataStorePtr> MakeMemory(const fs::path&) {
  return OpenMetadataStore("sqlite::memory:");
}

Result<MetadataStorePtr> MakeFile(const fs::path& scratch_dir) {
  return OpenMetadataStore("sqlite://" + (scratch_dir / "trainyard.db").string());
}

INSTANTIATE_TEST_SUITE_P(Sqlite, MetadataStoreConformanceTest,
                         ::testing::Values(MetadataStoreFactory{"memory", MakeMemory},
                                           MetadataStoreFactory{"file", MakeFile}),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Sqlite, BufferedProgressStoreTest,
                         ::testing::Values(MetadataStoreFactory{"memory", MakeMemory},
                                           MetadataStoreFactory{"file", MakeFile}),
                         [](const auto& info) { return info.param.name; });

// Runs one statement on the database file directly, as another program would.
int64_t QueryInt(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void Execute(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
  sqlite3_close(db);
}

MetadataStorePtr OpenFile(const fs::path& db_path) {
  Result<MetadataStorePtr> store = OpenMetadataStore("sqlite://" + db_path.string());
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

DatasetRecord Dataset(const std::string& id) {
  return DatasetRecord{.id = id, .name = id, .kind = "training", .created_at = TestTime(1)};
}

TEST(SqliteMetadataStoreTest, NewDatabaseGetsTheLatestSchemaVersionAndWal) {
  testing::TempDir dir;
  fs::path path = dir.path() / "new.db";
  ASSERT_NE(OpenFile(path), nullptr);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_GE(LatestSchemaVersion(), 1);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(SqliteMetadataStoreTest, DataSurvivesCloseAndReopen) {
  testing::TempDir dir;
  fs::path path = dir.path() / "keep.db";
  {
    MetadataStorePtr store = OpenFile(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateDataset(Dataset("ds-kept")).ok());
    JobRecord job;
    job.name = "kept-000";
    ASSERT_TRUE(store->CreateSweep({.id = "sw-kept"}, {"ds-kept"}, {job}).ok());
    ProgressUpdate update;
    update.log = {{.stream = "stdout", .line = "hello"}};
    ASSERT_TRUE(store->RecordProgress("kept-000", update).ok());
  }
  MetadataStorePtr store = OpenFile(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetDataset("ds-kept")->name, "ds-kept");
  EXPECT_EQ(store->GetJob("kept-000")->sweep_id, "sw-kept");
  EXPECT_EQ((*store->ListLogLines("kept-000", 0))[0].line, "hello");
  EXPECT_EQ(*store->LastEventId(), 1);
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  // Links survived too: the dataset is still protected by the queued job.
  EXPECT_EQ(store->DeleteDataset("ds-kept").code(), StatusCode::kFailedPrecondition);
}

// A job row as the scheduler has always written it (TrainingJobStatus and SecondaryStatus as
// text, SecondaryStatusTransitions as JSON) reads back typed: existing databases keep working.
TEST(SqliteMetadataStoreTest, StoredStatusTextAndTransitionsReadBackTyped) {
  testing::TempDir dir;
  fs::path path = dir.path() / "typed.db";
  {
    MetadataStorePtr store = OpenFile(path);
    ASSERT_NE(store, nullptr);
    JobRecord job;
    job.name = "typed-000";
    ASSERT_TRUE(store->CreateSweep({.id = "sw-typed"}, {}, {job}).ok());
  }
  Execute(path,
          "UPDATE jobs SET queued = 0, status = 'Stopped', secondary_status = "
          "'MaxRuntimeExceeded', transitions = '[{\"end_time\":\"2026-11-27T18:32:34.120Z\","
          "\"start_time\":\"2026-11-27T18:32:33.120Z\",\"status\":\"Starting\","
          "\"status_message\":\"Waiting in the queue\"},{\"start_time\":"
          "\"2026-11-27T18:32:34.120Z\",\"status\":\"MaxRuntimeExceeded\","
          "\"status_message\":\"\"}]' WHERE name = 'typed-000'");
  MetadataStorePtr store = OpenFile(path);
  ASSERT_NE(store, nullptr);
  Result<JobRecord> job = store->GetJob("typed-000");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->status, core::JobStatus::kStopped);
  EXPECT_EQ(job->secondary_status, core::SecondaryStatus::kMaxRuntimeExceeded);
  ASSERT_EQ(job->transitions.size(), 2u);
  EXPECT_EQ(job->transitions[0].status, core::SecondaryStatus::kStarting);
  EXPECT_EQ(FormatIso8601(job->transitions[0].start_time), "2026-11-27T18:32:33.120Z");
  EXPECT_EQ(FormatIso8601(*job->transitions[0].end_time), "2026-11-27T18:32:34.120Z");
  EXPECT_EQ(job->transitions[0].message, "Waiting in the queue");
  EXPECT_EQ(job->transitions[1].status, core::SecondaryStatus::kMaxRuntimeExceeded);
  EXPECT_EQ(job->transitions[1].end_time, std::nullopt);
  // Written back, the row is the text it was.
  ASSERT_TRUE(store->UpdateJobState(*job, {}).ok());
  EXPECT_EQ(QueryInt(path,
                     "SELECT count(*) FROM jobs WHERE status = 'Stopped' AND secondary_status = "
                     "'MaxRuntimeExceeded' AND transitions = '[{\"end_time\":\"2026-11-27T18:"
                     "32:34.120Z\",\"start_time\":\"2026-11-27T18:32:33.120Z\",\"status\":"
                     "\"Starting\",\"status_message\":\"Waiting in the queue\"},{\""
                     "start_time\":\"2026-11-27T18:32:34.120Z\",\"status\":\""
                     "MaxRuntimeExceeded\",\"status_message\":\"\"}]'"),
            1);
}

// A stored status or transition that trainyard cannot read is an Internal error naming the job
// and the field, never a record with a guessed state.
TEST(SqliteMetadataStoreTest, UnreadableStoredStatusIsAnErrorNamingTheField) {
  testing::TempDir dir;
  fs::path path = dir.path() / "damaged.db";
  {
    MetadataStorePtr store = OpenFile(path);
    ASSERT_NE(store, nullptr);
    JobRecord job;
    job.name = "bad-000";
    ASSERT_TRUE(store->CreateSweep({.id = "sw-bad"}, {}, {job}).ok());
  }
  const std::vector<std::pair<std::string, std::string>> damages = {
      {"status = 'Running'", "job 'bad-000' status"},
      {"secondary_status = 'starting'", "job 'bad-000' secondary_status"},
      {"transitions = '[{\"status\":\"Bogus\",\"start_time\":\"2026-11-27T18:32:33.120Z\"}]'",
       "job 'bad-000' transitions"},
      {"transitions = '[{\"status\":\"Starting\",\"start_time\":\"yesterday\"}]'",
       "transitions[0].start_time"},
      {"transitions = '{}'", "job 'bad-000' transitions"},
  };
  for (const auto& [damage, named] : damages) {
    Execute(path,
            "UPDATE jobs SET status = 'InProgress', secondary_status = 'Starting', transitions = "
            "'[]' WHERE name = 'bad-000'");
    Execute(path, "UPDATE jobs SET " + damage + " WHERE name = 'bad-000'");
    MetadataStorePtr store = OpenFile(path);
    ASSERT_NE(store, nullptr);
    Result<JobRecord> job = store->GetJob("bad-000");
    ASSERT_FALSE(job.ok()) << damage;
    EXPECT_EQ(job.status().code(), StatusCode::kInternal) << damage;
    EXPECT_NE(job.status().message().find(named), std::string::npos)
        << damage << ": " << job.status().message();
    EXPECT_FALSE(store->ListJobs({}).ok()) << damage;
  }
}

TEST(SqliteMetadataStoreTest, CommittedWritesSurviveKillDashNine) {
  testing::TempDir dir;
  fs::path path = dir.path() / "killed.db";
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = OpenMetadataStore("sqlite://" + path.string());
    if (!store.ok() || !(*store)->CreateDataset(Dataset("ds-before-kill")).ok()) _exit(1);
    raise(SIGKILL);  // no destructor, no checkpoint, no close
    _exit(2);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status)) << "child exited with " << WEXITSTATUS(wait_status);
  MetadataStorePtr store = OpenFile(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->GetDataset("ds-before-kill").ok());
}

TEST(SqliteMetadataStoreTest, DatabaseFromANewerTrainyardIsRefused) {
  testing::TempDir dir;
  fs::path path = dir.path() / "future.db";
  ASSERT_NE(OpenFile(path), nullptr);
  Execute(path, "PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1));
  Result<MetadataStorePtr> store = OpenMetadataStore("sqlite://" + path.string());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(store.status().message(), "newer")) << store.status().ToString();
  // Refusing changed nothing.
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), LatestSchemaVersion() + 1);
}

TEST(SqliteMetadataStoreTest, TwoStoresOnOneFileSeeEachOthersWrites) {
  testing::TempDir dir;
  fs::path path = dir.path() / "shared.db";
  MetadataStorePtr first = OpenFile(path);
  MetadataStorePtr second = OpenFile(path);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(first->CreateDataset(Dataset("ds-1")).ok());
  ASSERT_TRUE(second->CreateDataset(Dataset("ds-2")).ok());
  EXPECT_EQ(first->ListDatasets()->size(), 2u);
  EXPECT_EQ(second->CreateDataset(Dataset("ds-1")).code(), StatusCode::kAlreadyExists);
}

TEST(SqliteMetadataStoreTest, UnsupportedUrlsAreInvalidArgument) {
  for (const char* url : {"mysql://db/trainyard", "sqlite://relative.db", "sqlite:", "",
                          "/abs/path.db", "sqlite:///"}) {
    Result<MetadataStorePtr> store = OpenMetadataStore(url);
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << url;
    EXPECT_TRUE(Contains(store.status().message(), "'" + std::string(url) + "'"));
    EXPECT_TRUE(Contains(store.status().message(), "sqlite:///"));
    EXPECT_TRUE(Contains(store.status().message(), "sqlite::memory:"));
    EXPECT_TRUE(Contains(store.status().message(), "postgresql://"));
  }
}

TEST(SqliteMetadataStoreTest, UnopenableFileIsAnError) {
  testing::TempDir dir;
  Result<MetadataStorePtr> store =
      OpenMetadataStore("sqlite://" + (dir.path() / "no" / "such" / "dir.db").string());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_TRUE(Contains(store.status().message(), "dir.db")) << store.status().ToString();
}

TEST(SqliteMetadataStoreTest, SqliteErrorsMapToStatusCodes) {
  EXPECT_EQ(SqliteError(nullptr, SQLITE_FULL, "writing").code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(SqliteError(nullptr, SQLITE_FULL, "writing").message(), "disk full"));
  EXPECT_EQ(SqliteError(nullptr, SQLITE_IOERR_WRITE, "writing").code(), StatusCode::kInternal);
}

TEST(SqliteMetadataStoreTest, ListJobsStaysFastWithTenThousandJobs) {
  testing::TempDir dir;
  MetadataStorePtr store = OpenFile(dir.path() / "big.db");
  ASSERT_NE(store, nullptr);
  for (int s = 0; s < 10; ++s) {
    std::vector<JobRecord> jobs(1000);
    for (int i = 0; i < 1000; ++i) {
      jobs[i].name = "s" + std::to_string(s) + "-" + std::to_string(i);
      jobs[i].index = i;
      jobs[i].hyperparameters = {{"lr", "0.1"}};
    }
    ASSERT_TRUE(store->CreateSweep({.id = "sw-" + std::to_string(s)}, {}, jobs).ok());
  }
  auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < 100; ++round) {
    Result<JobPage> page = store->ListJobs({.sweep_id = "sw-9", .status = "Queued", .limit = 50});
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->jobs.size(), 50u);
    EXPECT_EQ(page->jobs[0].name, "s9-0");
    ASSERT_TRUE(store->ListJobs({.status = "Completed"})->jobs.empty());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  // An index turns each call into a short range scan (well under a millisecond); without one,
  // each would scan all 10,000 rows. The bound is loose for slow, shared machines.
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

}  // namespace
}  // namespace trainyard::metadata
