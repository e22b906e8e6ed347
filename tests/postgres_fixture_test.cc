// The PostgreSQL fixture itself: a real server, never as root, a fresh database per call.
#include "support/postgres_fixture.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

namespace trainyard::testing {
namespace {

// The first column of the first row of `sql` on `url`; "ERROR: ..." when it fails.
std::string QueryText(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  std::string value;
  if (PQstatus(connection) != CONNECTION_OK) {
    value = std::string("ERROR: ") + PQerrorMessage(connection);
  } else {
    PGresult* result = PQexec(connection, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) {
      value = PQgetvalue(result, 0, 0);
    } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      value = std::string("ERROR: ") + PQresultErrorMessage(result);
    }
    PQclear(result);
  }
  PQfinish(connection);
  return value;
}

TEST(PostgresFixtureTest, ServesVersion15OnLoopbackAsAnUnprivilegedUser) {
  PostgresServer* postgres = SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << PostgresUnavailableReason();
  EXPECT_EQ(QueryText(postgres->AdminUrl(), "SHOW server_version_num").substr(0, 2), "15");
  EXPECT_EQ(QueryText(postgres->AdminUrl(), "SHOW listen_addresses"), "127.0.0.1");
  std::string data_dir = QueryText(postgres->AdminUrl(), "SHOW data_directory");
  struct stat info {};
  ASSERT_EQ(::stat((data_dir + "/postmaster.pid").c_str(), &info), 0) << data_dir;
  EXPECT_NE(info.st_uid, 0u) << "the server runs as root";
  if (::geteuid() != 0) {
    EXPECT_EQ(info.st_uid, ::geteuid());
  }
}

TEST(PostgresFixtureTest, EachDatabaseIsFreshAndApart) {
  PostgresServer* postgres = SharedPostgres();
  if (postgres == nullptr) GTEST_SKIP() << PostgresUnavailableReason();
  std::string first = postgres->CreateDatabase();
  std::string second = postgres->CreateDatabase();
  ASSERT_FALSE(first.empty());
  ASSERT_NE(first, second);
  EXPECT_EQ(QueryText(first, "CREATE TABLE marker (id int)"), "");
  EXPECT_EQ(QueryText(first, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'"), "1");
  EXPECT_EQ(QueryText(second, "SELECT count(*) FROM pg_tables WHERE tablename = 'marker'"), "0");
}

}  // namespace
}  // namespace trainyard::testing
