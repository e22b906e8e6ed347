#include "app/migrate_command.h"

#include <cstdio>

#include "metadata/copy_to_postgres.h"
#include "metadata/postgres_metadata_store.h"

namespace trainyard::app {
namespace {

constexpr char kSqlitePrefix[] = "sqlite://";

int Fail(const Status& status) {
  std::fprintf(stderr, "trainyard migrate: %s\n", status.message().c_str());
  return ToExitCode(status);
}

}  // namespace

void AddMigrateCommand(CLI::App& cli, MigrateCommand& state) {
  CLI::App* migrate = cli.add_subcommand(
      "migrate", "Move a stopped server's metadata from SQLite into an empty PostgreSQL database");
  state.command = migrate;
  migrate->footer(R"(
Every record is copied as it is (datasets, sweeps, jobs, metric points, log lines, events,
webhooks and deliveries), in one PostgreSQL transaction. Stop the server first; then start it
with --metadata set to the --to URL. Objects and the data dir's job files stay where they are.

Example:
  trainyard migrate --from sqlite:///var/lib/trainyard/trainyard.db \
    --to 'postgresql://trainyard@db.internal/trainyard?sslmode=verify-full')");
  migrate->add_option("--from", state.from, "The SQLite database: sqlite:///ABSOLUTE/PATH.db")
      ->required();
  migrate->add_option("--to", state.to, "The PostgreSQL database: postgresql://...")->required();
}

std::optional<int> RunMigrateCommand(const MigrateCommand& state) {
  if (state.command == nullptr || !state.command->parsed()) return std::nullopt;
  const std::string prefix = kSqlitePrefix;
  if (!state.from.starts_with(prefix + "/")) {
    return Fail(InvalidArgument("--from '" + state.from +
                                "' is not an SQLite URL with an absolute path "
                                "(sqlite:///ABSOLUTE/PATH.db)"));
  }
  Result<metadata::PostgresUrl> to = metadata::ParsePostgresUrl(state.to);
  if (!to.ok()) return Fail(to.status().WithContext("--to"));
  Result<metadata::CopiedRows> copied =
      metadata::CopySqliteToPostgres(state.from.substr(prefix.size()), state.to);
  if (!copied.ok()) return Fail(copied.status());
  std::string summary;
  for (const auto& [table, rows] : *copied) {
    summary += (summary.empty() ? "" : ", ") + table + " " + std::to_string(rows);
  }
  std::printf("migrated %s to %s: %s\n", state.from.c_str(), to->shown_as.c_str(), summary.c_str());
  return 0;
}

}  // namespace trainyard::app
