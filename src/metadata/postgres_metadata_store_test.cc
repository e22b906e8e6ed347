// PostgresMetadataStore against a real PostgreSQL 15 (tests/support/postgres_fixture.h): the
// conformance suite every store passes, then what is PostgreSQL's own: the URL, the schema
// version, the pool, retries across a restart of the server.
#include "metadata/postgres_metadata_store.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <thread>

#include "common/log_capture.h"
#include "metadata/buffered_progress_store_conformance.h"
#include "metadata/metadata_store_conformance.h"
#include "metadata/postgres_schema.h"
#include "support/http_test_server.h"
#include "support/postgres_fixture.h"

namespace trainyard::metadata {
namespace {
namespace fs = std::filesystem;
using testing::PostgresServer;
using testing::SharedPostgres;

std::string Unavailable() {
  return SharedPostgres() == nullptr ? testing::PostgresUnavailableReason() : "";
}

Result<MetadataStorePtr> MakeOnPostgres(const fs::path&) {
  std::string url = SharedPostgres()->CreateDatabase();
  if (url.empty()) return Internal("no database");
  return OpenMetadataStore(url);
}

// The same suite with the tables in a schema of their own (the SageMaker endpoint's store):
// every statement finds them through the connection's search_path.
Result<MetadataStorePtr> MakeInSchema(const fs::path&) {
  std::string url = SharedPostgres()->CreateDatabase();
  if (url.empty()) return Internal("no database");
  TY_ASSIGN_OR_RETURN(auto store, PostgresMetadataStore::Open({.url = url, .schema = "sagemaker"}));
  return MetadataStorePtr(std::move(store));
}

INSTANTIATE_TEST_SUITE_P(Postgres, MetadataStoreConformanceTest,
                         ::testing::Values(MetadataStoreFactory{.name = "postgres",
                                                                .make = MakeOnPostgres,
                                                                .unavailable = Unavailable},
                                           MetadataStoreFactory{.name = "postgres_schema",
                                                                .make = MakeInSchema,
                                                                .unavailable = Unavailable}),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Postgres, BufferedProgressStoreTest,
                         ::testing::Values(MetadataStoreFactory{.name = "postgres",
                                                                .make = MakeOnPostgres,
                                                                .unavailable = Unavailable}),
                         [](const auto& info) { return info.param.name; });

// Runs `sql` on `url` directly, as another program would; the first column of the first row.
std::string Query(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  std::string value;
  if (PQstatus(connection) != CONNECTION_OK) {
    ADD_FAILURE() << PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQresultErrorMessage(result);
    } else if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    }
    PQclear(result);
  }
  PQfinish(connection);
  return value;
}

class PostgresMetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    postgres_ = SharedPostgres();
    if (postgres_ == nullptr) GTEST_SKIP() << testing::PostgresUnavailableReason();
    url_ = postgres_->CreateDatabase();
    ASSERT_FALSE(url_.empty());
  }
  MetadataStorePtr Open(const std::string& url) {
    Result<MetadataStorePtr> store = OpenMetadataStore(url);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  PostgresServer* postgres_ = nullptr;
  std::string url_;
};

DatasetRecord Dataset(const std::string& id) {
  return DatasetRecord{.id = id, .name = id, .kind = "training", .created_at = TestTime(1)};
}

TEST(PostgresUrlTest, KeepsLibpqSettingsTakesPoolSizeAndMasksThePassword) {
  Result<PostgresUrl> url = ParsePostgresUrl(
      "postgresql://ty:s3cret@db.example:5433/trainyard?sslmode=verify-full&pool_size=4"
      "&sslrootcert=/etc/ca.pem");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->conninfo,
            "postgresql://ty:s3cret@db.example:5433/trainyard?sslmode=verify-full"
            "&sslrootcert=/etc/ca.pem");
  EXPECT_EQ(url->pool_size, 4u);
  EXPECT_EQ(url->password, "s3cret");
  EXPECT_EQ(url->shown_as,
            "postgresql://ty:****@db.example:5433/trainyard?sslmode=verify-full&pool_size=4"
            "&sslrootcert=/etc/ca.pem");
  EXPECT_EQ(ParsePostgresUrl("postgres://h/db?password=abc&user=u")->shown_as,
            "postgres://h/db?password=****&user=u");
}

TEST(PostgresUrlTest, RefusesWhatLibpqCannotReadNamingTheSetting) {
  Result<PostgresUrl> unknown = ParsePostgresUrl("postgresql://u:pw@h/db?sslmod=require");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(unknown.status().message(), "sslmod"));
  EXPECT_FALSE(Contains(unknown.status().message(), "pw@"));
  Result<PostgresUrl> pool = ParsePostgresUrl("postgresql://h/db?pool_size=0");
  ASSERT_FALSE(pool.ok());
  EXPECT_TRUE(Contains(pool.status().message(), "pool_size '0'"));
  EXPECT_EQ(ParsePostgresUrl("mysql://h/db").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenMetadataStore("mysql://h/db").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(PostgresMetadataStoreTest, NewDatabaseGetsTheLatestSchemaVersionAndKeepsItsData) {
  {
    MetadataStorePtr store = Open(url_);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateDataset(Dataset("ds-kept")).ok());
  }
  EXPECT_EQ(Query(url_, "SELECT version FROM trainyard_schema"),
            std::to_string(LatestPostgresSchemaVersion()));
  MetadataStorePtr again = Open(url_);  // a second open migrates nothing and keeps the data
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->GetDataset("ds-kept").ok());
}

TEST_F(PostgresMetadataStoreTest, ANewerSchemaIsRefusedWithAClearError) {
  ASSERT_NE(Open(url_), nullptr);
  Query(url_, "UPDATE trainyard_schema SET version = version + 1");
  Result<MetadataStorePtr> store = OpenMetadataStore(url_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(store.status().message(), "newer than this trainyard knows"));
}

TEST_F(PostgresMetadataStoreTest, ServersOpeningOneNewDatabaseAtOnceMigrateItOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (!OpenMetadataStore(url_).ok()) ++failures;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM trainyard_schema"), "1");
}

TEST_F(PostgresMetadataStoreTest, StoresInTwoSchemasOfOneDatabaseKeepTheirRecordsApart) {
  MetadataStorePtr main = Open(url_);
  auto opened = PostgresMetadataStore::Open({.url = url_, .schema = "sagemaker"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  MetadataStorePtr sagemaker = std::move(*opened);
  ASSERT_NE(main, nullptr);
  // The same job name in each: a namespace of its own.
  for (auto [store, sweep] : {std::pair{main.get(), "sw-main"}, {sagemaker.get(), "sw-sm"}}) {
    ASSERT_TRUE(
        store
            ->CreateSweep(
                SweepRecord{.id = sweep, .name = "n", .created_at = TestTime(1)}, {},
                {JobRecord{.name = "same-name", .executor = "local", .created_at = TestTime(1)}})
            .ok());
  }
  EXPECT_EQ(main->GetJob("same-name")->sweep_id, "sw-main");
  EXPECT_EQ(sagemaker->GetJob("same-name")->sweep_id, "sw-sm");
  EXPECT_EQ(sagemaker->GetSweep("sw-main").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(main->ListSweeps()->size(), 1u);
  // Each has its own event ids, counters and schema version.
  EXPECT_EQ(*main->LastEventId(), *sagemaker->LastEventId());
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM sagemaker.jobs"), "1");
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM public.jobs"), "1");
  EXPECT_EQ(Query(url_, "SELECT version FROM sagemaker.trainyard_schema"),
            std::to_string(LatestPostgresSchemaVersion()));
  // Opened again (a restart), the schema is kept as it was.
  sagemaker.reset();
  opened = PostgresMetadataStore::Open({.url = url_, .schema = "sagemaker"});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->GetJob("same-name")->sweep_id, "sw-sm");
}

TEST_F(PostgresMetadataStoreTest, ServersOpeningOneNewSchemaAtOnceMakeItOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto store = PostgresMetadataStore::Open({.url = url_, .schema = "sagemaker"});
      if (!store.ok()) {
        ++failures;
        ADD_FAILURE() << store.status().ToString();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM sagemaker.trainyard_schema"), "1");
}

TEST_F(PostgresMetadataStoreTest, ASchemaNameTrainyardMayNotUseIsRefusedNamingIt) {
  for (const char* schema : {"SageMaker", "1st", "sage-maker", "pg_jobs", "public",
                             "a_name_that_is_far_too_long_for_postgresql_to_keep_as_it_is_given"}) {
    auto store = PostgresMetadataStore::Open({.url = url_, .schema = schema});
    ASSERT_FALSE(store.ok()) << schema;
    EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << schema;
    EXPECT_TRUE(Contains(store.status().message(), std::string("schema '") + schema + "'"))
        << store.status().ToString();
  }
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM pg_namespace WHERE nspname ILIKE '%sage%'"), "0");
}

TEST_F(PostgresMetadataStoreTest, AnUnreachableServerIsUnavailableWithoutThePassword) {
  std::string url =
      "postgresql://u:hunter2@127.0.0.1:" + std::to_string(testing::UnusedLoopbackPort()) +
      "/db?connect_timeout=2";
  auto store = PostgresMetadataStore::Open({.url = url, .max_attempts = 1});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(Contains(store.status().message(), "hunter2"));
}

TEST_F(PostgresMetadataStoreTest, PoolSizeBoundsTheConnectionsOpened) {
  MetadataStorePtr store = Open(url_ + "?pool_size=2&application_name=pool-test");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store
                  ->CreateSweep(
                      SweepRecord{.id = "sw-a", .name = "a", .created_at = TestTime(1)}, {},
                      {JobRecord{.name = "a-000", .executor = "local", .created_at = TestTime(1)}})
                  .ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!store->ListEvents(0, {}, 10).ok()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Query(postgres_->AdminUrl(),
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pool-test'"),
            "2");
}

TEST_F(PostgresMetadataStoreTest, TwoServersRacingOnAThousandQueuedJobsClaimEachOnce) {
  constexpr int kJobs = 1000;
  MetadataStorePtr first = Open(url_);
  MetadataStorePtr second = Open(url_);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  std::vector<JobRecord> jobs;
  for (int i = 0; i < kJobs; ++i) {
    jobs.push_back(JobRecord{.name = "race-" + std::to_string(i),
                             .index = i,
                             .executor = "local",
                             .created_at = TestTime(i)});
  }
  ASSERT_TRUE(
      first
          ->CreateSweep(SweepRecord{.id = "sw-race", .name = "race", .created_at = TestTime(0)}, {},
                        jobs)
          .ok());
  for (JobRecord& job : jobs) job.queued = false;
  std::vector<std::atomic<int>> claims(kJobs);
  std::atomic<int> failures{0};
  // Each server takes the queue from the head, as the scheduler does, with two threads each.
  auto claim_all = [&](MetadataStore* store) {
    for (int i = 0; i < kJobs; ++i) {
      auto claimed = store->ClaimJob(jobs[i], {});
      if (!claimed.ok()) {
        ++failures;
      } else if (claimed->claimed()) {
        ++claims[i];
      }
    }
  };
  std::vector<std::thread> threads;
  for (MetadataStore* store : {first.get(), second.get(), first.get(), second.get()}) {
    threads.emplace_back(claim_all, store);
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  int claimed_once = 0;
  for (int i = 0; i < kJobs; ++i) claimed_once += claims[i].load() == 1 ? 1 : 0;
  EXPECT_EQ(claimed_once, kJobs);
  EXPECT_EQ(Query(url_, "SELECT count(*) FROM jobs WHERE queued = 1"), "0");
}

TEST_F(PostgresMetadataStoreTest, TlsSettingsOfTheUrlReachLibpq) {
  if (postgres_->TlsCertificate().empty()) GTEST_SKIP() << "the test server has no TLS (openssl)";
  // verify-full against the server's own certificate: the store's connection is encrypted.
  MetadataStorePtr store =
      Open(url_ + "?sslmode=verify-full&sslrootcert=" + postgres_->TlsCertificate().string() +
           "&application_name=tls-test");
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateDataset(Dataset("ds-tls")).ok());
  EXPECT_EQ(Query(postgres_->AdminUrl(),
                  "SELECT bool_and(s.ssl)::text || count(*) FROM pg_stat_ssl AS s "
                  "JOIN pg_stat_activity AS a USING (pid) WHERE a.application_name = 'tls-test'"),
            "true1");
  // A root that did not sign the server's certificate is refused: the setting was used.
  auto refused = PostgresMetadataStore::Open(
      {.url = url_ + "?sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt",
       .max_attempts = 1});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(refused.status().message(), "certificate")) << refused.status().ToString();
}

// Last: it restarts the binary's one server.
TEST_F(PostgresMetadataStoreTest, CallsSurviveARestartOfTheServer) {
  MetadataStorePtr store = Open(url_);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->CreateDataset(Dataset("ds-before")).ok());
  LogCapture log;
  // Every pooled connection dies with the server; the next call finds its connection lost and
  // is tried again on a new one.
  ASSERT_TRUE(postgres_->Restart());
  EXPECT_TRUE(store->CreateDataset(Dataset("ds-after")).ok());
  EXPECT_TRUE(store->GetDataset("ds-before").ok());
  EXPECT_TRUE(Contains(log.Text(), "retrying")) << log.Text();
  EXPECT_EQ(store->ListDatasets()->size(), 2u);
}

}  // namespace
}  // namespace trainyard::metadata
