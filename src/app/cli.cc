#include "app/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "app/aws_commands.h"
#include "app/client_commands.h"
#include "app/run_command.h"
#include "app/server_command.h"
#include "common/files.h"
#include "core/sweep.h"
#include "core/sweep_parse.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

constexpr char kVersion[] = "0.1.0";

std::string DefaultSweepName() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char name[32];
  std::strftime(name, sizeof name, "run-%Y%m%d-%H%M%S", &local);
  return name;
}

// trainyard-wrap is installed beside trainyard; PATH is the fallback.
fs::path DefaultWrapperPath() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (!error && fs::exists(self.parent_path() / "trainyard-wrap")) {
    return self.parent_path() / "trainyard-wrap";
  }
  const char* path = std::getenv("PATH");
  return FindExecutable("trainyard-wrap", path ? path : "")
      .value_or(self.parent_path() / "trainyard-wrap");
}

struct RawRunFlags {
  std::vector<std::string> channels, hyperparameters, params, environment, metrics;
  std::string train, eval, pretrained, config, grid_file, objective, out;
  double stop_grace_seconds = 120;
};

Result<RunOptions> BuildRunOptions(const RawRunFlags& flags, RunOptions options) {
  auto add_channel = [&](const std::string& name, const std::string& path) -> Status {
    if (path.empty()) return Status::Ok();
    if (options.channels.count(name)) {
      return InvalidArgument("channel '" + name + "' is given twice");
    }
    options.channels[name] = path;
    return Status::Ok();
  };
  TY_RETURN_IF_ERROR(add_channel("training", flags.train));
  TY_RETURN_IF_ERROR(add_channel("evaluation", flags.eval));
  TY_RETURN_IF_ERROR(add_channel("pretrained", flags.pretrained));
  TY_RETURN_IF_ERROR(add_channel("config", flags.config));
  for (const std::string& text : flags.channels) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--channel"));
    TY_RETURN_IF_ERROR(add_channel(pair.first, pair.second));
  }

  if (!flags.grid_file.empty()) {
    if (!flags.params.empty()) {
      return InvalidArgument(
          "--grid and --param cannot be combined: put every parameter in the file");
    }
    auto text = ReadFile(flags.grid_file);
    if (!text.ok()) return text.status().WithContext("--grid");
    auto sweep = core::ParseSweepJsonText(*text);
    if (!sweep.ok()) return sweep.status().WithContext("--grid '" + flags.grid_file + "'");
    options.sweep = std::move(sweep).value();
  }
  for (const std::string& text : flags.hyperparameters) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--hp"));
    options.sweep.fixed[pair.first] = pair.second;
  }
  for (const std::string& text : flags.params) {
    TY_ASSIGN_OR_RETURN(auto param, core::ParseParamFlag(text));
    options.sweep.grid.push_back(std::move(param));
  }
  for (const std::string& text : flags.environment) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--env"));
    options.environment[pair.first] = pair.second;
  }
  for (const std::string& text : flags.metrics) {
    TY_ASSIGN_OR_RETURN(auto pair, core::ParseKeyValue(text, "--metric"));
    options.metric_definitions.push_back({pair.first, pair.second});
  }
  if (!flags.objective.empty()) {
    TY_ASSIGN_OR_RETURN(Objective objective, ParseObjective(flags.objective));
    options.objective = objective;
  }
  options.stop_grace_period =
      std::chrono::milliseconds(static_cast<int64_t>(flags.stop_grace_seconds * 1000));
  if (options.sweep_name.empty()) options.sweep_name = DefaultSweepName();
  options.out_dir = flags.out.empty() ? fs::path("runs") / options.sweep_name : fs::path(flags.out);
  if (options.wrapper_path.empty()) options.wrapper_path = DefaultWrapperPath();
  return options;
}

}  // namespace

int Main(int argc, char** argv) {
  // Everything after the first "--" is the ML command, passed through untouched.
  std::vector<std::string> arguments(argv + 1, argv + argc);
  std::vector<std::string> command;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--") {
      command.assign(arguments.begin() + static_cast<std::ptrdiff_t>(i) + 1, arguments.end());
      arguments.resize(i);
      break;
    }
  }

  CLI::App cli{"trainyard: run training jobs and hyperparameter sweeps on any compute",
               "trainyard"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", kVersion);

  RunOptions options;
  options.command = command;
  RawRunFlags flags;
  CLI::App* run = cli.add_subcommand(
      "run", "Run a sweep of training jobs on this machine: trainyard run [OPTIONS] -- COMMAND");
  run->footer(R"(
Every combination of --param values (or of the --grid file) becomes one SageMaker-shaped job,
run through trainyard-wrap. COMMAND reads the file named by $TRAINYARD_JOB_JSON (docs/job-json.md).

Example:
  trainyard run --train data/train.csv --eval data/eval.csv \
    --param learning_rate=0.1,0.01 --param batch_size=32,64 --hp iterations=200 \
    --objective eval_accuracy:max --parallel 2 --out runs/first -- ./my-trainer)");
  run->add_option("--train", flags.train, "Data for the 'training' channel (file or directory)");
  run->add_option("--eval", flags.eval, "Data for the 'evaluation' channel");
  run->add_option("--pretrained", flags.pretrained, "Data for the 'pretrained' channel");
  run->add_option("--config", flags.config, "Data for the 'config' channel");
  run->add_option("--channel", flags.channels, "Any channel: NAME=PATH (repeatable)");
  run->add_option("--hp", flags.hyperparameters, "A fixed hyperparameter: KEY=VALUE (repeatable)");
  run->add_option("--param", flags.params,
                  "A swept hyperparameter: NAME=V1,V2,... (repeatable; the grid is their product)");
  run->add_option("--grid", flags.grid_file,
                  "A JSON file: {\"grid\": {name: [values]}} or {\"combinations\": [{...}]}");
  run->add_option("--parallel", options.parallel, "Jobs to run at once")->default_val(1);
  run->add_option("--max-runtime", options.max_runtime_seconds,
                  "Seconds a job may run before it is stopped (MaxRuntimeExceeded)")
      ->default_val(86400);
  run->add_option("--stop-grace", flags.stop_grace_seconds,
                  "Seconds between SIGTERM and SIGKILL when a job is stopped")
      ->default_val(120);
  run->add_option("--env", flags.environment, "Environment for every job: KEY=VALUE (repeatable)");
  run->add_option("--metric", flags.metrics,
                  "A metric read from the log: NAME=REGEX, first group is the value (repeatable)");
  run->add_option("--objective", flags.objective, "Rank jobs by METRIC:min or METRIC:max");
  run->add_option("--out", flags.out, "Where results go; must be new or empty (default runs/NAME)");
  run->add_flag("--overwrite", options.overwrite, "Replace the contents of a non-empty --out");
  run->add_option("--name", options.sweep_name, "Sweep name, the prefix of job names");
  run->add_flag("--keep-work", options.keep_job_roots, "Keep each job's /opt/ml tree in OUT/.work");
  run->add_option("--wrapper", options.wrapper_path, "The trainyard-wrap binary to use");

  ServerCommand server_command;
  AddServerCommand(cli, server_command);

  cli.add_subcommand("version", "Print the version")->callback([] {
    std::printf("trainyard %s\n", kVersion);
  });
  ClientCommands client;
  AddClientCommands(cli, client);
  AwsCommands aws_commands;
  AddAwsCommands(cli, aws_commands);

  try {
    std::reverse(arguments.begin(), arguments.end());  // CLI11 takes a reversed vector
    cli.parse(arguments);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every usage error exits 2, as command-line tools do.
    return cli.exit(error) == 0 ? 0 : ToExitCode(InvalidArgument(error.what()));
  }
  if (std::optional<int> code = RunServerCommand(server_command)) return *code;
  if (run->parsed()) {
    auto built = BuildRunOptions(flags, std::move(options));
    if (!built.ok()) {
      std::fprintf(stderr, "trainyard run: %s\n", built.status().message().c_str());
      return ToExitCode(built.status());
    }
    return RunCommand(std::move(built).value());
  }
  if (std::optional<int> code = RunClientCommands(client)) return *code;
  if (std::optional<int> code = RunAwsCommands(aws_commands)) return *code;
  return 0;
}

}  // namespace trainyard::app
