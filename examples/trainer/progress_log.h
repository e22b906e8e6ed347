// Appends progress lines (JSON Lines) for trainyard, which rereads the file every few seconds.
#pragma once

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace trainyard::example {

class ProgressLog {
 public:
  // An empty path makes Append a no-op, for jobs without a progress_file.
  explicit ProgressLog(const std::filesystem::path& path);

  // Writes one whole line and flushes it, so a reader never sees half a record.
  void Append(const nlohmann::ordered_json& record);

 private:
  std::ofstream output_;
};

}  // namespace trainyard::example
