#include "executor/slurm/slurm_commands.h"

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/environment.h"
#include "common/files.h"
#include "executor/container/runtime_process.h"

namespace trainyard::executor {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr char kDefaultSearchPath[] = "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin";

// A number Slurm writes as such (22.05) or as {"set": true, "number": N} (23.02 on).
int64_t NumberOf(const json& value) {
  if (value.is_number()) return value.get<int64_t>();
  if (value.is_object() && value.value("set", true) && value.contains("number") &&
      value["number"].is_number()) {
    return value["number"].get<int64_t>();
  }
  return 0;
}

std::string TextOf(const json& object, const char* field) {
  auto found = object.find(field);
  if (found == object.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

// job_state is a string (22.05) or a list of flags whose first is the state (23.02 on).
std::string StateOf(const json& job) {
  auto state = job.find("job_state");
  if (state == job.end()) return "";
  if (state->is_string()) return state->get<std::string>();
  if (state->is_array() && !state->empty() && (*state)[0].is_string()) {
    return (*state)[0].get<std::string>();
  }
  return "";
}

// exit_code is a wait status (22.05) or {"return_code", "signal": {"id"}} (23.02 on).
int ExitStatusOf(const json& job) {
  auto exit_code = job.find("exit_code");
  if (exit_code == job.end()) return 0;
  if (exit_code->is_number()) return exit_code->get<int>();
  if (exit_code->is_object()) {
    int code = static_cast<int>(NumberOf(exit_code->value("return_code", json())));
    int signal_number = 0;
    if (auto signal = exit_code->find("signal");
        signal != exit_code->end() && signal->is_object()) {
      signal_number = static_cast<int>(NumberOf(signal->value("id", json())));
    }
    return signal_number != 0 ? signal_number : (code & 0xff) << 8;
  }
  return 0;
}

}  // namespace

bool SlurmControllerUnreachable(const std::string& text) {
  for (const char* sign :
       {"Unable to contact slurm controller", "Socket timed out", "Zero Bytes were transmitted",
        "Connection refused", "Communication connection failure"}) {
    if (text.find(sign) != std::string::npos) return true;
  }
  return false;
}

std::string SlurmCommandMessage(const std::string& output) {
  std::istringstream lines(output);
  std::string message;
  for (std::string line; std::getline(lines, line);) {
    for (const char* prefix : {"sbatch: error: ", "squeue: error: ", "scancel: error: ", "sbatch: ",
                               "squeue: ", "scancel: "}) {
      if (line.rfind(prefix, 0) == 0) {
        line = line.substr(std::string(prefix).size());
        break;
      }
    }
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    message += (message.empty() ? "" : "; ") + line;
  }
  if (message.size() > 1024) message.resize(1024);
  return message;
}

std::vector<std::string> SbatchArguments(const fs::path& sbatch,
                                         const SlurmSubmission& submission) {
  // ALL: sbatch's own environment, which SbatchEnvironment keeps to Slurm's and the exported
  // variables. A list without ALL (or NONE) makes Slurm load the user's login environment on
  // the node (--get-user-env): seconds per job.
  std::vector<std::string> argv = {sbatch.string(), "--parsable", "--export=ALL"};
  argv.insert(argv.end(), submission.options.begin(), submission.options.end());
  argv.push_back(submission.script.string());
  return argv;
}

EnvironmentMap SbatchEnvironment(const EnvironmentMap& environment,
                                 const std::map<std::string, std::string>& exported) {
  static const std::set<std::string> kClientVariables = {"PATH", "HOME", "USER",   "LOGNAME",
                                                         "LANG", "TZ",   "TMPDIR", "KRB5CCNAME"};
  EnvironmentMap kept;
  for (const auto& [name, value] : environment) {
    if (kClientVariables.contains(name) || name.starts_with("SLURM_") ||
        name.starts_with("SBATCH_") || name.starts_with("LC_")) {
      kept[name] = value;
    }
  }
  for (const auto& [name, value] : exported) kept[name] = value;
  return kept;
}

std::vector<SlurmJobInfo> SlurmJobsOf(const json& list) {
  std::vector<SlurmJobInfo> jobs;
  if (!list.is_array()) return jobs;
  for (const json& job : list) {
    if (!job.is_object()) continue;
    SlurmJobInfo info;
    info.id = std::to_string(NumberOf(job.value("job_id", json())));
    info.name = TextOf(job, "name");
    info.comment = TextOf(job, "comment");
    info.command = TextOf(job, "command");
    info.state = StateOf(job);
    info.reason = TextOf(job, "state_reason");
    info.nodes = TextOf(job, "nodes");
    info.working_directory = TextOf(job, "current_working_directory");
    info.exit_status = ExitStatusOf(job);
    info.start_time = NumberOf(job.value("start_time", json()));
    info.end_time = NumberOf(job.value("end_time", json()));
    info.restart_count = static_cast<int>(NumberOf(job.value("restart_cnt", json())));
    jobs.push_back(std::move(info));
  }
  return jobs;
}

Result<std::vector<SlurmJobInfo>> ParseSqueueJson(const std::string& text) {
  // A warning printed before the document (stderr shares the pipe) is skipped.
  size_t start = text.find('{');
  json document = json::parse(start == std::string::npos ? "" : text.substr(start), nullptr, false);
  if (!document.is_object() || !document.contains("jobs") || !document["jobs"].is_array()) {
    return InvalidArgument("squeue --json gave no job list: " +
                           SlurmCommandMessage(text.substr(0, 512)));
  }
  return SlurmJobsOf(document["jobs"]);
}

Result<std::unique_ptr<SlurmCommands>> SlurmCommands::Create(SlurmCommandsOptions options) {
  std::string search_path = options.bin_dir.empty() ? (options.environment.contains("PATH")
                                                           ? options.environment.at("PATH")
                                                           : std::string(kDefaultSearchPath))
                                                    : options.bin_dir.string();
  std::vector<fs::path> found;
  for (const char* command : {"sbatch", "squeue", "scancel"}) {
    std::optional<fs::path> path = FindExecutable(command, search_path);
    if (!path) {
      return NotFound(std::string("Slurm's '") + command + "' not found on " + search_path +
                      "; install slurm-client, or give the directory of Slurm's commands");
    }
    found.push_back(*path);
  }
  return std::unique_ptr<SlurmCommands>(
      new SlurmCommands(std::move(options), found[0], found[1], found[2]));
}

SlurmCommands::SlurmCommands(SlurmCommandsOptions options, fs::path sbatch, fs::path squeue,
                             fs::path scancel)
    : options_(std::move(options)),
      sbatch_(std::move(sbatch)),
      squeue_(std::move(squeue)),
      scancel_(std::move(scancel)) {}

Status SlurmCommands::CheckUser(const std::string& user) const {
  if (user.empty()) return Status::Ok();
  // sbatch --uid would need a server running as root, and scancel as that user too: refused
  // rather than half done.
  return FailedPrecondition(
      "Slurm's commands submit every job as the server's own Unix user, not as '" + user +
      "': a sweep's own Slurm user needs slurm_transport rest with slurm_jwt_key_file");
}

Result<std::string> SlurmCommands::Submit(const SlurmSubmission& submission) {
  TY_RETURN_IF_ERROR(CheckUser(submission.user));
  EnvironmentMap environment = SbatchEnvironment(options_.environment, submission.exported);
  std::vector<std::string> argv = SbatchArguments(sbatch_, submission);
  TY_ASSIGN_OR_RETURN(CommandOutput output,
                      RunCommand(argv, FormatEnvironment(environment), options_.timeout));
  std::string message = SlurmCommandMessage(output.output);
  if (output.exit_code != 0) {
    if (SlurmControllerUnreachable(output.output)) return Unavailable("sbatch: " + message);
    return InvalidArgument("Slurm refused the job: " + message);
  }
  // "<id>" or "<id>;<cluster>", possibly after warnings: the last line.
  std::string last;
  std::istringstream lines(output.output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) last = line;
  }
  std::string id = last.substr(0, last.find(';'));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    return Internal("sbatch printed no job id: " + message);
  }
  return id;
}

Result<std::vector<SlurmJobInfo>> SlurmCommands::ListJobs(const std::string& user) {
  TY_RETURN_IF_ERROR(CheckUser(user));
  // --states=all: ended jobs too, for as long as slurmctld keeps them (MinJobAge).
  std::vector<std::string> argv = {squeue_.string(), "--json", "--states=all"};
  TY_ASSIGN_OR_RETURN(CommandOutput output,
                      RunCommand(argv, FormatEnvironment(options_.environment), options_.timeout,
                                 kSlurmListingLimit));
  if (output.exit_code != 0) {
    std::string message = SlurmCommandMessage(output.output);
    if (SlurmControllerUnreachable(output.output)) return Unavailable("squeue: " + message);
    return Internal("squeue exited with " + std::to_string(output.exit_code) + ": " + message);
  }
  return ParseSqueueJson(output.output);
}

Status SlurmCommands::RunScancel(const std::vector<std::string>& arguments,
                                 const std::string& job_id) {
  std::vector<std::string> argv = {scancel_.string()};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  argv.push_back(job_id);
  TY_ASSIGN_OR_RETURN(CommandOutput output,
                      RunCommand(argv, FormatEnvironment(options_.environment), options_.timeout));
  std::string message = SlurmCommandMessage(output.output);
  // An ended job: nothing left to signal.
  if (message.find("already completing or completed") != std::string::npos ||
      message.find("Job/step already") != std::string::npos) {
    return Status::Ok();
  }
  if (output.exit_code != 0 || !message.empty()) {
    if (SlurmControllerUnreachable(output.output)) return Unavailable("scancel: " + message);
    return Internal("scancel of Slurm job " + job_id + " exited with " +
                    std::to_string(output.exit_code) + ": " + message);
  }
  return Status::Ok();
}

Status SlurmCommands::Signal(const std::string& job_id, const std::string& signal_name,
                             const std::string& user) {
  TY_RETURN_IF_ERROR(CheckUser(user));
  // --full: the batch script too (it is trainyard-wrap), not only the job's steps.
  return RunScancel({"--full", "--signal=" + signal_name}, job_id);
}

Status SlurmCommands::Cancel(const std::string& job_id, const std::string& user) {
  TY_RETURN_IF_ERROR(CheckUser(user));
  return RunScancel({}, job_id);
}

}  // namespace trainyard::executor
