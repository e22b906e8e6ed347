#include "app/client_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "app/client_command_runners.h"
#include "app/client_format.h"
#include "app/sweep_flag_help.h"

namespace trainyard::app {

namespace {

constexpr char kDefaultServer[] = "http://127.0.0.1:8080";

// A runnable subcommand with the options every client command shares.
CLI::App* AddCommand(CLI::App* parent, ClientCommands& state, const std::string& name,
                     const std::string& description, const std::string& example) {
  CLI::App* command = parent->add_subcommand(name, description);
  command->footer("\nExample:\n  " + example);
  command->add_option("--server", state.connection.server,
                      std::string("The trainyard server's URL (env TRAINYARD_URL; default ") +
                          kDefaultServer + ")");
  command->add_option("--token", state.connection.token,
                      "The server's API token (env TRAINYARD_TOKEN)");
  command
      ->add_option("--output", state.connection.output,
                   "table: readable text; json: the server's JSON, pretty")
      ->check(CLI::IsMember({"table", "json"}));
  state.commands.emplace_back(parent->get_name() + " " + name, command);
  return command;
}

void AddDatasetCommands(CLI::App& cli, ClientCommands& state) {
  CLI::App* group =
      cli.add_subcommand("dataset", "Upload and manage datasets on a trainyard server");
  group->require_subcommand(1);
  ClientDatasetFlags& flags = state.dataset;
  CLI::App* upload =
      AddCommand(group, state, "upload", "Upload a file as a dataset; prints its id",
                 "trainyard dataset upload data/train.csv --kind training --name digits-train");
  upload->add_option("FILE", flags.file, "The file to upload (any size)")->required();
  upload->add_option("--kind", flags.kind, "What the data is for")
      ->required()
      ->check(CLI::IsMember({"training", "evaluation", "pretrained", "config", "other"}));
  upload->add_option("--name", flags.name, "The dataset's name (default: the file name)");
  upload->add_option("--sha256", flags.sha256,
                     "The file's SHA-256 (hex): the server refuses the upload if it differs");
  AddCommand(group, state, "list", "List datasets, newest first", "trainyard dataset list");
  CLI::App* show = AddCommand(group, state, "show", "Show one dataset",
                              "trainyard dataset show ds-0123456789abcdef");
  show->add_option("ID", flags.id, "The dataset id")->required();
  CLI::App* remove =
      AddCommand(group, state, "rm", "Delete a dataset no queued or running job uses",
                 "trainyard dataset rm ds-0123456789abcdef");
  remove->add_option("ID", flags.id, "The dataset id")->required();
  CLI::App* download = AddCommand(group, state, "download", "Download a dataset's content",
                                  "trainyard dataset download ds-0123456789abcdef -o train.csv");
  download->add_option("ID", flags.id, "The dataset id")->required();
  download->add_option("-o,--out", flags.output_file,
                       "Where to write it (default: its file name, in the current directory)");
}

constexpr char kWaitExitCodes[] =
    "\nExit codes: 0 every job Completed, or was stopped early by the sweep's early stopping\n"
    "(the search judged it worse than the others: the sweep did its work); 1 a job Failed, or\n"
    "was Stopped otherwise (by hand, `sweep stop`, its max runtime); 9 --timeout passed;\n"
    "8 the server could not be reached at the start (once it has answered, a restarting server\n"
    "is asked again until it answers). Progress goes to stderr: one live line on a terminal,\n"
    "else a line whenever a job's status changes. With --output json the final sweep is printed.";

CLI::Option* AddWaitTimeout(CLI::App* command, ClientSweepFlags& flags) {
  return command
      ->add_option("--timeout", flags.timeout_seconds,
                   "Seconds to wait at most; then exit 9 (default: no limit)")
      ->check(CLI::NonNegativeNumber);
}

void AddSweepCommands(CLI::App& cli, ClientCommands& state) {
  CLI::App* group = cli.add_subcommand("sweep", "Create and manage sweeps on a trainyard server");
  group->require_subcommand(1);
  ClientSweepFlags& flags = state.sweep;
  CLI::App* create = AddCommand(
      group, state, "create", "Create a sweep: one job per combination of --param values",
      "trainyard sweep create --name digits --command 'trainyard-example-trainer' \\\n"
      "    --train ds-0123456789abcdef --param learning_rate=0.01,0.1 --hp iterations=300 \\\n"
      "    --objective eval_accuracy:max --max-parallel 2\n"
      "  trainyard sweep create --file sweep.json --name digits-2   (flags override the file)");
  create->add_option("--file", flags.file,
                     "A JSON file with the request body (docs/api.md); flags override its fields");
  create->add_option("--name", flags.name, "The sweep's name, the prefix of its job names");
  create->add_option("--executor", flags.executor, "Where jobs run (default local)");
  CLI::Option* command =
      create->add_option("--command", flags.command, "The trainer command: 'CMD ARGS' (local)");
  create->add_option("--image", flags.image, "The trainer image (container executor)")
      ->excludes(command);
  create->add_option("--slurm-user", flags.slurm_user,
                     "The Slurm user the sweep's jobs run as (slurm executor over slurmrestd; one "
                     "the server allows: docs/slurm.md, \"Identity\")");
  create->add_option("--channel", flags.channels,
                     "A channel: NAME=DATASET_ID (repeatable; channels are optional: code that "
                     "makes or downloads its own data needs none)");
  create->add_option("--train", flags.train, "The 'training' channel's dataset id");
  create->add_option("--eval", flags.eval, "The 'evaluation' channel's dataset id");
  create->add_option("--pretrained", flags.pretrained, "The 'pretrained' channel's dataset id");
  create->add_option("--config", flags.config, "The 'config' channel's dataset id");
  create->add_option("--hp", flags.hyperparameters, kHyperparameterFlagHelp);
  create->add_option("--param", flags.params, kParamFlagHelp);
  create->add_option("--max-parallel", flags.max_parallel, "Jobs of this sweep run at once")
      ->check(CLI::PositiveNumber);
  create->add_option("--strategy", flags.strategy, kStrategyFlagHelp)
      ->check(CLI::IsMember({"grid", "random", "bayesian", "hyperband"}));
  create->add_option("--max-jobs", flags.max_jobs, "The most jobs a search starts")
      ->check(CLI::PositiveNumber);
  create
      ->add_option("--random-seed", flags.random_seed,
                   "The seed of a search: the same seed makes the same suggestions")
      ->check(CLI::NonNegativeNumber);
  create
      ->add_option("--early-stopping", flags.early_stopping,
                   "off or auto (any strategy): auto stops a running job whose best objective "
                   "so far is worse than the median of the other jobs' running averages at the "
                   "same step (docs/search.md); needs --objective")
      ->check(CLI::IsMember({"off", "auto"}));
  create->add_option("--resource", flags.resource,
                     "Hyperband: the hyperparameter that carries each job's resource and its "
                     "least and most, NAME=MIN..MAX (epochs=1..27)");
  create
      ->add_option("--eta", flags.eta,
                   "Hyperband: each rung gives eta times the resource and keeps the top 1/eta "
                   "(default 3)")
      ->check(CLI::Range(2, 10));
  create
      ->add_option("--max-runtime", flags.max_runtime_seconds,
                   "Seconds a job may run before it is stopped")
      ->check(CLI::PositiveNumber);
  create->add_option("--env", flags.environment,
                     "Environment for every job: KEY=VALUE (repeatable)");
  create->add_option("--objective", flags.objective, kObjectiveFlagHelp);
  create->add_option("--idempotency-key", flags.idempotency_key,
                     "Creating again with the same key returns the first sweep instead");
  CLI::Option* wait_flag =
      create->add_flag("--wait", flags.wait,
                       "Then wait until every job has ended and exit as `sweep wait` does (0 all "
                       "Completed or stopped early, 1 a job Failed or was stopped otherwise, 9 "
                       "--timeout passed)");
  AddWaitTimeout(create, flags)->needs(wait_flag);
  CLI::App* wait =
      AddCommand(group, state, "wait",
                 "Wait until every job of a sweep has ended; the exit code says how it ended",
                 "trainyard sweep wait sw-0123456789abcdef --timeout 3600 && echo all completed");
  wait->add_option("ID", flags.id, "The sweep id")->required();
  AddWaitTimeout(wait, flags);
  wait->footer(wait->get_footer() + "\n" + kWaitExitCodes);
  AddCommand(group, state, "list", "List sweeps, newest first", "trainyard sweep list");
  for (auto [name, description] :
       {std::pair{"show", "Show a sweep: counts by status, progress, best job and its jobs"},
        std::pair{"stop", "Stop a sweep's queued and running jobs"},
        std::pair{"retry", "Queue a sweep's failed jobs again"}}) {
    CLI::App* sub = AddCommand(group, state, name, description,
                               std::string("trainyard sweep ") + name + " sw-0123456789abcdef");
    sub->add_option("ID", flags.id, "The sweep id")->required();
  }
}

void AddJobCommands(CLI::App& cli, ClientCommands& state) {
  CLI::App* group = cli.add_subcommand("job", "Follow and manage jobs on a trainyard server");
  group->require_subcommand(1);
  ClientJobFlags& flags = state.job;
  CLI::App* list = AddCommand(group, state, "list", "List jobs in queue order",
                              "trainyard job list --sweep sw-0123456789abcdef --status Failed");
  list->add_option("--sweep", flags.sweep, "Only this sweep's jobs");
  list->add_option("--status", flags.status, "Only jobs with this status")
      ->check(
          CLI::IsMember({"Queued", "InProgress", "Stopping", "Completed", "Failed", "Stopped"}));
  list->add_option("--limit", flags.limit, "At most this many jobs (default: all)")
      ->check(CLI::PositiveNumber);
  CLI::App* show =
      AddCommand(group, state, "show", "Show one job", "trainyard job show digits-001");
  show->add_option("NAME", flags.name, "The job name")->required();
  CLI::App* logs =
      AddCommand(group, state, "logs", "Print a job's log", "trainyard job logs digits-001 -f");
  logs->add_option("NAME", flags.name, "The job name")->required();
  logs->add_flag("-f,--follow", flags.follow,
                 "Keep printing lines as they come until the job ends");
  CLI::App* stop =
      AddCommand(group, state, "stop", "Ask a job to stop", "trainyard job stop digits-001");
  stop->add_option("NAME", flags.name, "The job name")->required();
  CLI::App* download =
      AddCommand(group, state, "download", "Download one of a job's artifacts",
                 "trainyard job download digits-001 --artifact model -o model.tar.gz");
  download->add_option("NAME", flags.name, "The job name")->required();
  download
      ->add_option("--artifact", flags.artifact,
                   "log, model, output, predictions (taken out of output.tar.gz) or job.json")
      ->required()
      ->check(CLI::IsMember({"log", "model", "output", "predictions", "job.json"}));
  download->add_option("-o,--out", flags.output_file,
                       "Where to write it (default: training.log, model.tar.gz, output.tar.gz, "
                       "job.json, or the predictions file's name)");
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

void ClientContext::PrintJson(const nlohmann::json& json) const {
  Print(json.dump(2) + "\n");
}

void ClientContext::Print(const std::string& text) const {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

client::ProgressCallback ClientContext::ProgressBar(const std::string& label) const {
  int fd = ::fileno(err);
  if (fd < 0 || !::isatty(fd)) return {};
  std::FILE* stream = err;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [stream, label, last](int64_t done, int64_t total) {
    auto now = std::chrono::steady_clock::now();
    bool finished = total >= 0 && done >= total;
    // Redrawn at most ten times a second: a fast transfer calls back thousands of times.
    if (!finished && now - *last < std::chrono::milliseconds(100)) return;
    *last = now;
    std::string size = FormatBytes(done) + (total >= 0 ? " / " + FormatBytes(total) : "");
    std::string bar =
        total > 0 ? ProgressBarText(static_cast<double>(done) / static_cast<double>(total), 30)
                  : "";
    std::fprintf(stream, "\r\033[K%s %s  %s%s", label.c_str(), bar.c_str(), size.c_str(),
                 finished ? "\n" : "");
    std::fflush(stream);
  };
}

void AddWebhookCommands(CLI::App& cli, ClientCommands& state) {
  CLI::App* group = cli.add_subcommand(
      "webhook", "Tell other systems when jobs and sweeps end (docs/webhooks.md)");
  group->require_subcommand(1);
  ClientWebhookFlags& flags = state.webhook;
  CLI::App* create = AddCommand(
      group, state, "create", "Create a webhook; prints its id (and its secret when generated)",
      "trainyard webhook create https://hooks.example.com/trainyard --event job.completed "
      "--event sweep.completed --secret \"$HOOK_SECRET\"");
  create->add_option("URL", flags.url, "Where to POST (http or https)")->required();
  create
      ->add_option("--event", flags.events,
                   "An event to receive (repeatable; default all): job.completed, job.failed, "
                   "job.stopped, sweep.completed, sweep.best_job")
      ->check(CLI::IsMember(
          {"job.completed", "job.failed", "job.stopped", "sweep.completed", "sweep.best_job"}));
  create->add_option("--secret", flags.secret,
                     "The signing secret, 16 to 256 characters (default: generated and printed "
                     "once)");
  create->add_option("--format", flags.format, "json (default) or slack (incoming webhook)")
      ->check(CLI::IsMember({"json", "slack"}));
  AddCommand(group, state, "list", "List webhooks", "trainyard webhook list");
  CLI::App* remove = AddCommand(group, state, "delete", "Delete a webhook and its deliveries",
                                "trainyard webhook delete wh-0123456789abcdef");
  remove->add_option("ID", flags.id, "The webhook's id")->required();
  CLI::App* deliveries =
      AddCommand(group, state, "deliveries", "Show a webhook's deliveries, newest first",
                 "trainyard webhook deliveries wh-0123456789abcdef --limit 20");
  deliveries->add_option("ID", flags.id, "The webhook's id")->required();
  deliveries->add_option("--limit", flags.limit, "At most this many (default 100)")
      ->check(CLI::Range(1, 1000));
  CLI::App* redeliver =
      AddCommand(group, state, "redeliver", "Send a delivery again now",
                 "trainyard webhook redeliver wh-0123456789abcdef dl-0123456789abcdef");
  redeliver->add_option("ID", flags.id, "The webhook's id")->required();
  redeliver->add_option("DELIVERY", flags.delivery_id, "The delivery's id")->required();
}

void AddClientCommands(CLI::App& cli, ClientCommands& state) {
  AddDatasetCommands(cli, state);
  AddSweepCommands(cli, state);
  AddJobCommands(cli, state);
  AddWebhookCommands(cli, state);
}

std::optional<int> RunClientCommands(const ClientCommands& state) {
  for (const auto& [name, command] : state.commands) {
    if (!command->parsed()) continue;
    client::ApiClientOptions options;
    options.base_url = !state.connection.server.empty() ? state.connection.server
                       : !Env("TRAINYARD_URL").empty()  ? Env("TRAINYARD_URL")
                                                        : kDefaultServer;
    options.token =
        !state.connection.token.empty() ? state.connection.token : Env("TRAINYARD_TOKEN");
    client::ApiClient api(options);
    ClientContext context{api, state, state.connection.output == "json", state.out, state.err};
    Status status;
    int exit_code = 0;  // of a command that ran; only `sweep wait` says more than 0
    try {
      std::string group = name.substr(0, name.find(' '));
      if (group == "dataset") {
        status = RunDatasetCommand(name, context);
      } else if (group == "sweep") {
        Result<int> ran = RunSweepCommand(name, context);
        status = ran.status();
        if (ran.ok()) exit_code = *ran;
      } else if (group == "webhook") {
        status = RunWebhookCommand(name, context);
      } else {
        status = RunJobCommand(name, context);
      }
    } catch (const nlohmann::json::exception& error) {
      // Only a server that breaks the API's shapes gets here.
      status = Internal(std::string("unexpected answer from the server: ") + error.what());
    }
    if (!status.ok()) {
      std::fprintf(state.err, "trainyard %s: %s\n", name.c_str(), status.message().c_str());
      std::fflush(state.err);
    }
    return status.ok() ? exit_code : ToExitCode(status);
  }
  return std::nullopt;
}

}  // namespace trainyard::app
