#include "executor/slurm/slurm_rest.h"

#include <set>

#include "aws/metadata_http.h"
#include "common/files.h"
#include "executor/slurm/slurm_commands.h"

namespace trainyard::executor {
using nlohmann::json;

namespace {

constexpr char kApi[] = "/slurm/v0.0.38";

// sbatch's long options whose slurmrestd name is not the option with '-' as '_'
// (src/plugins/openapi/v0.0.38/jobs.c: job_params).
const std::map<std::string, std::string>& RenamedOptions() {
  static const auto* renamed = new std::map<std::string, std::string>{
      {"job-name", "name"},
      {"time", "time_limit"},
      {"time-min", "time_minimum"},
      {"mem", "memory_per_node"},
      {"mem-per-cpu", "memory_per_cpu"},
      {"mem-per-gpu", "memory_per_gpu"},
      {"chdir", "current_working_directory"},
      {"output", "standard_output"},
      {"error", "standard_error"},
      {"input", "standard_input"},
      {"exclude", "exclude_nodes"},
      {"tmp", "temporary_disk_per_node"},
      {"mincpus", "minimum_cpus_per_node"},
      {"begin", "begin_time"},
      {"hint", "cpu_binding_hint"},
      {"gpu-bind", "gpu_binding"},
      {"mem-bind", "memory_binding"},
      {"core-spec", "core_specification"},
      {"thread-spec", "thread_specification"},
      {"acctg-freq", "account_gather_frequency"},
      {"cpu-freq", "cpu_frequency"},
      {"gpu-freq", "gpu_frequency"},
      {"kill-on-invalid-dep", "kill_on_invalid_dependency"},
      {"license", "licenses"},
  };
  return *renamed;
}

// What sbatch can do and slurmrestd cannot: the environment is given whole, and the user is
// the token's.
const std::set<std::string>& RefusedOptions() {
  static const auto* refused = new std::set<std::string>{
      "export", "export-file", "uid", "gid", "wrap", "parsable", "get-user-env"};
  return *refused;
}

// slurmctld drops a request whose token it refuses (expired, signed with another key, another
// user's): slurmrestd then answers "Zero Bytes were transmitted or received" for a submission or
// a signal, and "Unspecified error" for a listing. slurmrestd's own refusal is HTTP 401.
bool TokenRefused(long http_status, const std::string& text) {
  if (http_status == 401 || http_status == 403) return true;
  for (const char* sign : {"Zero Bytes were transmitted or received", "Unspecified error",
                           "authentication", "Authentication"}) {
    if (text.find(sign) != std::string::npos) return true;
  }
  return false;
}

// A Slurm job id goes into the URL's path: digits only.
Status CheckJobId(const std::string& job_id) {
  if (job_id.empty() || job_id.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument("'" + job_id + "' is not a Slurm job id");
  }
  return Status::Ok();
}

}  // namespace

Result<json> SlurmRestJob(const std::vector<std::string>& options,
                          const std::map<std::string, std::string>& environment) {
  json job = json::object();
  for (const std::string& option : options) {
    if (!option.starts_with("--") || option.size() == 2) {
      return InvalidArgument("sbatch option '" + option +
                             "': the REST transport takes long options only (--name=value)");
    }
    size_t equals = option.find('=');
    std::string name =
        option.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    if (RefusedOptions().contains(name)) {
      return InvalidArgument("sbatch option '--" + name +
                             "': not available through slurmrestd (the job's user is the "
                             "token's, its environment is given whole)");
    }
    auto renamed = RenamedOptions().find(name);
    std::string key = renamed != RenamedOptions().end() ? renamed->second : name;
    for (char& c : key) {
      if (c == '-') c = '_';
    }
    if (equals != std::string::npos) {
      job[key] = option.substr(equals + 1);
    } else if (key == "exclusive") {
      job[key] = "exclusive";
    } else {
      job[key] = true;
    }
  }
  job["environment"] = environment;
  return job;
}

std::string SlurmRestErrors(const json& answer) {
  std::string message;
  if (!answer.is_object() || !answer.contains("errors") || !answer["errors"].is_array()) {
    return message;
  }
  for (const json& error : answer["errors"]) {
    if (!error.is_object()) continue;
    std::string text = error.value("error", "");
    std::string description = error.value("description", "");
    if (!description.empty()) text += (text.empty() ? "" : ": ") + description;
    if (text.empty()) continue;
    message += (message.empty() ? "" : "; ") + text;
  }
  if (message.size() > 1024) message.resize(1024);
  return message;
}

Result<std::unique_ptr<SlurmRest>> SlurmRest::Create(SlurmRestOptions options) {
  Result<aws::UrlParts> url = aws::SplitUrl(options.url);
  if (!url.ok() || (url->scheme != "http" && url->scheme != "https")) {
    return InvalidArgument("slurm_rest_url: '" + aws::RedactUrl(options.url) +
                           "' is not slurmrestd's http:// or https:// URL");
  }
  while (options.url.ends_with('/')) options.url.pop_back();
  if (options.user.empty()) {
    return InvalidArgument("slurm_rest_user: the Slurm user the REST transport submits as");
  }
  if (!options.tokens) {
    return InvalidArgument(
        "slurm_rest_token_file or slurm_jwt_key_file: the REST transport needs the user's token");
  }
  if (!options.allowed_users.empty() && !options.tokens->MintsForAnyUser()) {
    return InvalidArgument(
        "slurm_allowed_users: needs slurm_jwt_key_file (tokens minted for each user); a token "
        "file holds the token of slurm_rest_user alone");
  }
  return std::unique_ptr<SlurmRest>(new SlurmRest(std::move(options)));
}

Status SlurmRest::CheckUser(const std::string& user) const {
  if (user.empty() || user == options_.user) return Status::Ok();
  if (!options_.tokens->MintsForAnyUser()) {
    return FailedPrecondition("the Slurm REST transport holds the token of '" + options_.user +
                              "' alone (slurm_rest_token_file), not of '" + user +
                              "': acting as other users needs slurm_jwt_key_file and "
                              "slurm_allowed_users");
  }
  if (!options_.allowed_users.contains(user)) {
    std::string allowed;
    for (const std::string& name : options_.allowed_users) {
      allowed += (allowed.empty() ? "" : ", ") + name;
    }
    return Status(StatusCode::kPermissionDenied,
                  "Slurm user '" + user + "' is not one this server may act as (slurm_rest_user '" +
                      options_.user +
                      "', slurm_allowed_users: " + (allowed.empty() ? "none" : allowed) + ")");
  }
  return Status::Ok();
}

Result<SlurmRest::Answer> SlurmRest::Call(const std::string& given_user, const std::string& method,
                                          const std::string& path, const std::string& body) {
  TY_RETURN_IF_ERROR(CheckUser(given_user));
  const std::string& user = UserOrDefault(given_user);
  Result<std::string> token = options_.tokens->Token(user);
  if (!token.ok()) return token.status().WithContext("Slurm REST transport");
  aws::MetadataRequest request;
  request.method = method;
  request.url = options_.url + kApi + path;
  request.body = body;
  request.headers = {
      {"X-SLURM-USER-NAME", user}, {"X-SLURM-USER-TOKEN", *token}, {"Accept", "application/json"}};
  if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  request.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds(10'000));
  request.total_timeout = options_.timeout;
  request.max_response_bytes = kSlurmListingLimit;
  Result<aws::MetadataResponse> response = aws::SendMetadataRequest(request);
  if (!response.ok()) {
    return Unavailable("Slurm REST transport: slurmrestd cannot be reached: " +
                       response.status().message());
  }
  Answer answer;
  answer.http_status = response->status;
  answer.document = json::parse(response->body, nullptr, false);
  if (answer.document.is_discarded()) answer.document = nullptr;
  answer.slurm_message = SlurmRestErrors(answer.document);
  if (answer.slurm_message.empty() && !answer.document.is_object()) {
    // Not JSON: slurmrestd's plain answers ("Authentication failure", an unknown path).
    answer.slurm_message = response->body.substr(0, 512);
    while (!answer.slurm_message.empty() && std::isspace(answer.slurm_message.back())) {
      answer.slurm_message.pop_back();
    }
  }
  return answer;
}

Status SlurmRest::Failure(const std::string& operation, const std::string& user,
                          const Answer& answer) const {
  std::string message = "Slurm REST transport: " + operation + " as user '" + UserOrDefault(user) +
                        "' failed (HTTP " + std::to_string(answer.http_status) + "): " +
                        (answer.slurm_message.empty() ? "no message" : answer.slurm_message);
  // First: slurmctld's answer to a refused token is also one of an unreachable controller's.
  if (TokenRefused(answer.http_status, answer.slurm_message)) {
    return Status(StatusCode::kUnauthenticated,
                  message +
                      " (Slurm's answer to a token it refuses: check that user's token, "
                      "its expiry and the cluster's jwt_key)");
  }
  if (SlurmControllerUnreachable(answer.slurm_message)) return Unavailable(message);
  if (answer.http_status >= 500 && answer.slurm_message.empty()) return Unavailable(message);
  return Internal(message);
}

Result<std::string> SlurmRest::Submit(const SlurmSubmission& submission) {
  Result<std::string> script = ReadFile(submission.script);
  if (!script.ok()) return script.status().WithContext("Slurm REST transport: the batch script");
  TY_ASSIGN_OR_RETURN(json job,
                      SlurmRestJob(submission.options,
                                   SbatchEnvironment(options_.environment, submission.exported)));
  TY_ASSIGN_OR_RETURN(Answer answer, Call(submission.user, "POST", "/job/submit",
                                          json{{"script", *script}, {"job", job}}.dump()));
  const json& id = answer.document.is_object() ? answer.document.value("job_id", json()) : json();
  if (answer.http_status == 200 && id.is_number_integer()) {
    return std::to_string(id.get<int64_t>());
  }
  Status failed = Failure("submit", submission.user, answer);
  if (failed.code() == StatusCode::kInternal && answer.http_status != 0) {
    // slurmctld's refusal (a partition that does not exist, more than any node has).
    return InvalidArgument("Slurm refused the job: " + answer.slurm_message);
  }
  return failed;
}

Result<std::vector<SlurmJobInfo>> SlurmRest::ListJobs(const std::string& user) {
  TY_ASSIGN_OR_RETURN(Answer answer, Call(user, "GET", "/jobs"));
  if (answer.http_status != 200 || !answer.document.is_object() ||
      !answer.document.contains("jobs") || !answer.document["jobs"].is_array()) {
    return Failure("list jobs", user, answer);
  }
  return SlurmJobsOf(answer.document["jobs"]);
}

Status SlurmRest::Signal(const std::string& job_id, const std::string& signal_name,
                         const std::string& user) {
  TY_RETURN_IF_ERROR(CheckJobId(job_id));
  if (signal_name.empty() ||
      signal_name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != std::string::npos) {
    return InvalidArgument("'" + signal_name + "' is not a signal name (TERM, KILL, ...)");
  }
  TY_ASSIGN_OR_RETURN(Answer answer,
                      Call(user, "DELETE", "/job/" + job_id + "?signal=" + signal_name));
  // slurmrestd answers an ended job's signal as a success (ESLURM_ALREADY_DONE).
  if (answer.http_status == 200) return Status::Ok();
  return Failure("signal " + signal_name + " to job " + job_id, user, answer);
}

Status SlurmRest::Cancel(const std::string& job_id, const std::string& user) {
  TY_RETURN_IF_ERROR(CheckJobId(job_id));
  TY_ASSIGN_OR_RETURN(Answer answer, Call(user, "DELETE", "/job/" + job_id));
  if (answer.http_status == 200) return Status::Ok();
  return Failure("cancel job " + job_id, user, answer);
}

}  // namespace trainyard::executor
