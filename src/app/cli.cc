#include "app/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/aws_commands.h"
#include "app/client_commands.h"
#include "app/migrate_command.h"
#include "app/run_command.h"
#include "app/run_resume.h"
#include "app/server_command.h"
#include "app/sweep_flag_help.h"

namespace trainyard::app {

namespace {

constexpr char kVersion[] = "0.1.0";

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
  RunFlags flags;
  CLI::App* run = cli.add_subcommand("run",
                                     "Run a sweep of training jobs on this machine (or its Slurm "
                                     "cluster): trainyard run [OPTIONS] -- COMMAND");
  run->footer(R"(
Every combination of --param values (or of the --grid file) becomes one SageMaker-shaped job,
run through trainyard-wrap. COMMAND reads the file named by $TRAINYARD_JOB_JSON (docs/job-json.md).

Example:
  trainyard run --train data/train.csv --eval data/eval.csv \
    --param learning_rate=0.1,0.01 --param batch_size=32,64 --hp iterations=200 \
    --objective eval_accuracy:max --parallel 2 --out runs/first -- ./my-trainer

The run is recorded in OUT/run.json before any job starts. If `trainyard run` is killed, its jobs
run on, and `trainyard run --resume OUT` finishes the run: it follows the jobs still running,
starts those that never started, keeps those that ended, and runs no job's code twice.)");
  run->add_option("--train", flags.train, "Data for the 'training' channel (file or directory)");
  run->add_option("--eval", flags.eval, "Data for the 'evaluation' channel");
  run->add_option("--pretrained", flags.pretrained, "Data for the 'pretrained' channel");
  run->add_option("--config", flags.config, "Data for the 'config' channel");
  run->add_option("--channel", flags.channels, "Any channel: NAME=PATH (repeatable)");
  run->add_option("--hp", flags.hyperparameters, kHyperparameterFlagHelp);
  run->add_option("--param", flags.params, kParamFlagHelp);
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
  run->add_option("--objective", flags.objective, kObjectiveFlagHelp);
  run->add_option("--out", flags.out, "Where results go; must be new or empty (default runs/NAME)");
  run->add_flag("--overwrite", options.overwrite, "Replace the contents of a non-empty --out");
  run->add_option("--name", options.sweep_name, "Sweep name, the prefix of job names");
  run->add_flag("--keep-work", options.keep_job_roots, "Keep each job's /opt/ml tree in OUT/.work");
  run->add_option("--wrapper", options.wrapper_path, "The trainyard-wrap binary to use");
  run->add_option("--executor", flags.executor,
                  "local (default) or slurm: each job a Slurm batch job; OUT must be on a "
                  "filesystem the compute nodes share (docs/slurm.md)");
  // As `trainyard server` declares them: the site's sbatch options, and Slurm's commands or
  // slurmrestd (docs/slurm.md, "Transports").
  AddSlurmSettingFlags(*run, RunSlurmSettingKeys(), flags.slurm);
  run->add_option("--log-level", options.log.level,
                  "trace, debug, info, warn (default), error or off: the log on stderr");
  run->add_option("--log-format", options.log.format, "text (default) or json");
  std::string resume_dir;
  CLI::Option* resume =
      run->add_option("--resume", resume_dir,
                      "Finish the run recorded in DIR (killed before it ended); no other option")
          ->type_name("DIR");

  ServerCommand server_command;
  AddServerCommand(cli, server_command);
  MigrateCommand migrate_command;
  AddMigrateCommand(cli, migrate_command);

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
  if (std::optional<int> code = RunMigrateCommand(migrate_command)) return *code;
  if (run->parsed() && resume->count() > 0) {
    std::vector<std::string> other_options;
    for (const CLI::Option* option : run->get_options()) {
      if (option != resume && option->count() > 0) other_options.push_back(option->get_name());
    }
    if (Status alone = CheckResumeIsAlone(other_options, !command.empty()); !alone.ok()) {
      std::fprintf(stderr, "trainyard run: %s\n", alone.message().c_str());
      return ToExitCode(alone);
    }
    return ResumeCommand(resume_dir);
  }
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
