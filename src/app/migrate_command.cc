#include "app/migrate_command.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "app/server_sagemaker.h"
#include "metadata/copy_to_postgres.h"
#include "metadata/postgres_metadata_store.h"

namespace trainyard::app {
namespace {

// The command's error line on stderr, and its exit code.
int MigrateFailure(const Status& status) {
  return ReportFailure("trainyard migrate", status);
}

constexpr char kSqlitePrefix[] = "sqlite://";

}  // namespace

void AddMigrateCommand(CLI::App& cli, MigrateCommand& state) {
  CLI::App* migrate = cli.add_subcommand(
      "migrate", "Move a stopped server's metadata from SQLite into an empty PostgreSQL database");
  state.command = migrate;
  migrate->footer(R"(
Every record is copied as it is (datasets, sweeps, jobs, metric points, log lines, events,
webhooks and deliveries), in one PostgreSQL transaction, together with the SageMaker-compatible
endpoint's jobs (sagemaker/metadata.db beside --from, when it is there, or --sagemaker-from) into
the database's schema "sagemaker", where the server keeps them on PostgreSQL. Stop the server
first; then start it with --metadata set to the --to URL. Objects and the data dir's job files
stay where they are.

Example:
  trainyard migrate --from sqlite:///var/lib/trainyard/trainyard.db \
    --to 'postgresql://trainyard@db.internal/trainyard?sslmode=verify-full')");
  migrate->add_option("--from", state.from, "The SQLite database: sqlite:///ABSOLUTE/PATH.db")
      ->required();
  migrate->add_option("--to", state.to, "The PostgreSQL database: postgresql://...")->required();
  migrate->add_option("--sagemaker-from", state.sagemaker_from,
                      "The SageMaker endpoint's SQLite store (default: sagemaker/metadata.db "
                      "beside --from, when it exists)");
}

std::optional<int> RunMigrateCommand(const MigrateCommand& state) {
  if (state.command == nullptr || !state.command->parsed()) return std::nullopt;
  const std::string prefix = kSqlitePrefix;
  if (!state.from.starts_with(prefix + "/")) {
    return MigrateFailure(InvalidArgument("--from '" + state.from +
                                          "' is not an SQLite URL with an absolute path "
                                          "(sqlite:///ABSOLUTE/PATH.db)"));
  }
  if (!state.sagemaker_from.empty() && !state.sagemaker_from.starts_with(prefix + "/")) {
    return MigrateFailure(InvalidArgument("--sagemaker-from '" + state.sagemaker_from +
                                          "' is not an SQLite URL with an absolute path "
                                          "(sqlite:///ABSOLUTE/PATH/sagemaker/metadata.db)"));
  }
  Result<metadata::PostgresUrl> to = metadata::ParsePostgresUrl(state.to);
  if (!to.ok()) return MigrateFailure(to.status().WithContext("--to"));
  std::vector<metadata::SqliteCopySource> sources = {{state.from.substr(prefix.size()), ""}};
  std::vector<std::string> names = {state.from};
  if (!state.sagemaker_from.empty()) {
    sources.push_back({state.sagemaker_from.substr(prefix.size()), kSageMakerSchema});
    names.push_back(state.sagemaker_from);
  } else {
    // Where `trainyard server` keeps the endpoint's store beside its own (server_sagemaker.h).
    const std::filesystem::path beside =
        std::filesystem::path(sources.front().sqlite_path).parent_path() / "sagemaker" /
        "metadata.db";
    if (std::filesystem::exists(beside)) {
      sources.push_back({beside.string(), kSageMakerSchema});
      names.push_back(prefix + beside.string());
    }
  }
  Result<std::vector<metadata::CopiedRows>> copied =
      metadata::CopySqliteStoresToPostgres(sources, state.to);
  if (!copied.ok()) return MigrateFailure(copied.status());
  for (size_t i = 0; i < copied->size(); ++i) {
    std::string summary;
    for (const auto& [table, rows] : (*copied)[i]) {
      summary += (summary.empty() ? "" : ", ") + table + " " + std::to_string(rows);
    }
    const std::string schema =
        sources[i].schema.empty() ? "" : " (schema " + sources[i].schema + ")";
    std::printf("migrated %s to %s%s: %s\n", names[i].c_str(), to->shown_as.c_str(), schema.c_str(),
                summary.c_str());
  }
  return 0;
}

}  // namespace trainyard::app
