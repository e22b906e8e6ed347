#include "progress_log.h"

#include <stdexcept>
#include <string>

namespace trainyard::example {

ProgressLog::ProgressLog(const std::filesystem::path& path) {
  if (path.empty()) return;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  output_.open(path, std::ios::app);
  if (!output_) throw std::runtime_error("cannot open progress file " + path.string());
}

void ProgressLog::Append(const nlohmann::ordered_json& record) {
  if (!output_.is_open()) return;
  output_ << record.dump() + "\n" << std::flush;
}

}  // namespace trainyard::example
