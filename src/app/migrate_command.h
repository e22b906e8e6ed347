// `trainyard migrate --from sqlite:///PATH --to postgresql://...`: moves an installation's
// metadata from SQLite into an empty PostgreSQL database (metadata/copy_to_postgres.h), for a
// server that then starts with `--metadata postgresql://...` (docs/scale-out.md); with it, in
// the same transaction, the SageMaker-compatible endpoint's store (`--sagemaker-from`, by
// default sagemaker/metadata.db beside --from when it exists) into the schema "sagemaker".
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace trainyard::app {

struct MigrateCommand {
  std::string from;
  std::string to;
  std::string sagemaker_from;  // empty: <dir of from>/sagemaker/metadata.db when it exists
  CLI::App* command = nullptr;
};

void AddMigrateCommand(CLI::App& cli, MigrateCommand& state);
// The exit code when `migrate` was the command given, nullopt otherwise.
std::optional<int> RunMigrateCommand(const MigrateCommand& state);

}  // namespace trainyard::app
