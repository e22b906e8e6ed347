#include "executor/sagemaker/training_log.h"

#include <algorithm>
#include <vector>

namespace trainyard::executor {
namespace {

using nlohmann::json;

Result<std::vector<std::string>> StreamNames(aws::JsonServiceClient& logs,
                                             const std::string& job_name) {
  std::vector<std::string> names;
  std::string next_token;
  do {
    json input = {{"logGroupName", kTrainingJobLogGroup}, {"logStreamNamePrefix", job_name + "/"}};
    if (!next_token.empty()) input["nextToken"] = next_token;
    aws::JsonCallResult page = logs.Call("DescribeLogStreams", input);
    if (!page.ok()) return page.status;
    for (const json& stream : page.output.value("logStreams", json::array()))
      names.push_back(stream.value("logStreamName", ""));
    next_token = page.output.value("nextToken", "");
  } while (!next_token.empty());
  std::erase(names, "");
  std::sort(names.begin(), names.end());
  return names;
}

Status AppendStream(aws::JsonServiceClient& logs, const std::string& stream, std::string* text) {
  std::string token;
  while (true) {
    json input = {
        {"logGroupName", kTrainingJobLogGroup}, {"logStreamName", stream}, {"startFromHead", true}};
    if (!token.empty()) input["nextToken"] = token;
    aws::JsonCallResult page = logs.Call("GetLogEvents", input);
    if (!page.ok()) return page.status;
    for (const json& event : page.output.value("events", json::array())) {
      *text += event.value("message", "");
      *text += '\n';
    }
    std::string next = page.output.value("nextForwardToken", "");
    // CloudWatch signals the end by answering the token it was given.
    if (next.empty() || next == token) return Status::Ok();
    token = next;
  }
}

}  // namespace

Result<std::string> ReadTrainingLog(aws::JsonServiceClient& logs, const std::string& job_name) {
  TY_ASSIGN_OR_RETURN(std::vector<std::string> streams, StreamNames(logs, job_name));
  if (streams.empty()) {
    return NotFound(std::string("no log stream of training job '") + job_name + "' in " +
                    kTrainingJobLogGroup);
  }
  std::string text;
  for (const std::string& stream : streams) {
    if (streams.size() > 1) text += "==> " + stream + " <==\n";
    TY_RETURN_IF_ERROR(AppendStream(logs, stream, &text));
  }
  return text;
}

}  // namespace trainyard::executor
