#include "app/run_resume.h"

#include <regex>

#include "common/log.h"

namespace trainyard::app {
namespace fs = std::filesystem;

namespace {

bool IsInterruptedWrite(const std::string& file_name) {
  static const std::regex kTemporary(R"(.+\.tmp(\.[0-9]+\.[0-9]+|-[A-Za-z0-9]{6})$)");
  return std::regex_match(file_name, kTemporary);
}

void RemoveInterruptedWritesIn(const fs::path& directory) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    if (!entry.is_regular_file(error) || !IsInterruptedWrite(entry.path().filename().string())) {
      continue;
    }
    std::error_code removed;
    fs::remove(entry.path(), removed);
    if (removed) {
      Logger("run").error("file={} could not be removed: {}", entry.path().string(),
                          removed.message());
    }
  }
}

}  // namespace

Status CheckResumeIsAlone(const std::vector<std::string>& other_options, bool has_command) {
  if (!other_options.empty()) {
    return InvalidArgument("--resume runs the jobs as they were recorded: " +
                           other_options.front() + " cannot be given with it");
  }
  if (has_command) {
    return InvalidArgument(
        "--resume runs the jobs as they were recorded: a COMMAND cannot be given with it");
  }
  return Status::Ok();
}

void RemoveInterruptedWrites(const RunRecord& record) {
  RemoveInterruptedWritesIn(record.options.out_dir);
  for (const RecordedJob& job : record.jobs) {
    RemoveInterruptedWritesIn(record.options.out_dir / job.name);
  }
}

}  // namespace trainyard::app
