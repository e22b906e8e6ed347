// trainyard-example-trainer: trains a softmax digit classifier from a trainyard job.json.
//
//   trainyard-example-trainer [JOB_JSON]     (default: $TRAINYARD_JOB_JSON)
//
// Exit status: 0 done, 1 bad job or data (reason on stderr and in failure_file), 143 stopped by
// SIGTERM (model so far written to model_dir).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <string>

#include "job_config.h"
#include "training_job.h"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void RequestStop(int) {
  stop_requested = 1;
}

void InstallStopHandler() {
  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  // Restart interrupted writes (to a full stdout pipe, say) instead of failing them.
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
}

// SageMaker's convention: the reason a job failed goes to the failure file, where the service
// shows it to the user instead of making them dig through the log.
void ReportFailure(const std::filesystem::path& failure_file, const std::string& message) {
  std::fprintf(stderr, "trainyard-example-trainer: %s\n", message.c_str());
  if (failure_file.empty()) return;
  std::error_code ignored;
  std::filesystem::create_directories(failure_file.parent_path(), ignored);
  std::ofstream(failure_file) << message << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  InstallStopHandler();
  if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) {
    std::printf("usage: %s [JOB_JSON]\nReads job.json from JOB_JSON or $TRAINYARD_JOB_JSON.\n",
                argv[0]);
    return 0;
  }
  const char* job_path = argc > 1 ? argv[1] : std::getenv("TRAINYARD_JOB_JSON");
  if (job_path == nullptr || *job_path == '\0') {
    ReportFailure({}, "no job.json: set TRAINYARD_JOB_JSON or pass its path as the argument");
    return 1;
  }

  std::filesystem::path failure_file;
  try {
    const nlohmann::json job = trainyard::example::ReadJsonFile(job_path);
    // Read first and on its own, so every later error can still be reported there.
    if (job.is_object() && job.contains("failure_file") && job["failure_file"].is_string()) {
      failure_file = job["failure_file"].get<std::string>();
    }
    const auto config = trainyard::example::ParseJobConfig(job);
    return trainyard::example::RunTrainingJob(config, stop_requested);
  } catch (const std::exception& error) {
    ReportFailure(failure_file, error.what());
    return 1;
  }
}
