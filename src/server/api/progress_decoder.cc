#include "server/api/progress_decoder.h"

#include "contract/progress_body.h"

namespace trainyard::server {

Result<metadata::ProgressUpdate> DecodeProgress(const nlohmann::json& body) {
  TY_ASSIGN_OR_RETURN(contract::ProgressBody decoded, contract::DecodeProgressBody(body));
  metadata::ProgressUpdate update;
  update.sequence = decoded.sequence;
  update.progress = std::move(decoded.progress);
  update.metrics.reserve(decoded.metrics.size());
  for (contract::ProgressMetric& point : decoded.metrics) {
    update.metrics.push_back({.name = std::move(point.name),
                              .value = point.value,
                              .step = point.step,
                              .timestamp = point.timestamp});
  }
  update.log.reserve(decoded.log.size());
  for (contract::ProgressLogLine& line : decoded.log) {
    update.log.push_back(
        {.stream = line.stream == contract::LogStream::kStderr ? "stderr" : "stdout",
         .line = std::move(line.line),
         .timestamp = line.timestamp});
  }
  return update;
}

bool IsLastReport(const nlohmann::json& body) {
  auto exit = body.find("exit");
  return exit != body.end() && exit->is_object();
}

}  // namespace trainyard::server
