// `trainyard dataset ...`.
#include <filesystem>

#include "app/client_command_runners.h"
#include "app/client_format.h"

namespace trainyard::app {

namespace {

using client::ApiClient;

std::string DatasetPath(const std::string& id) {
  return "/api/v1/datasets/" + ApiClient::Escape(id);
}

std::string DatasetDetails(const nlohmann::json& dataset) {
  std::string size =
      dataset.contains("size") && dataset["size"].is_number()
          ? FormatBytes(dataset["size"].get<int64_t>()) + " (" + dataset["size"].dump() + " bytes)"
          : "-";
  std::string text;
  for (auto [label, value] : {std::pair<std::string, std::string>{"ID", Cell(dataset, "id")},
                              {"Name", Cell(dataset, "name")},
                              {"Kind", Cell(dataset, "kind")},
                              {"Filename", Cell(dataset, "filename")},
                              {"Size", size},
                              {"SHA-256", Cell(dataset, "sha256")},
                              {"Content type", Cell(dataset, "content_type")},
                              {"Created", Cell(dataset, "created_at")}}) {
    text += label + ":" + std::string(14 - label.size(), ' ') + value + "\n";
  }
  return text;
}

Status Upload(const ClientContext& context) {
  const ClientDatasetFlags& flags = context.state.dataset;
  std::filesystem::path file(flags.file);
  client::UploadRequest request;
  request.file = file;
  request.name = flags.name.empty() ? file.filename().string() : flags.name;
  request.kind = flags.kind;
  request.filename = file.filename().string();
  request.sha256 = flags.sha256;
  request.progress = context.ProgressBar("uploading " + file.filename().string());
  TY_ASSIGN_OR_RETURN(nlohmann::json dataset, context.api.UploadDataset(request));
  if (context.json_output) {
    context.PrintJson(dataset);
  } else {
    // Only the id on stdout, so that ID=$(trainyard dataset upload ...) works.
    context.Print(Cell(dataset, "id") + "\n");
  }
  return Status::Ok();
}

Status ListDatasets(const ClientContext& context) {
  TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Get("/api/v1/datasets"));
  if (context.json_output) {
    context.PrintJson(answer);
    return Status::Ok();
  }
  TextTable table({"ID", "NAME", "KIND", "FILENAME", "SIZE", "CREATED"});
  for (const nlohmann::json& dataset : answer.value("datasets", nlohmann::json::array())) {
    std::string size = dataset.contains("size") && dataset["size"].is_number()
                           ? FormatBytes(dataset["size"].get<int64_t>())
                           : "-";
    table.AddRow({Cell(dataset, "id"), Cell(dataset, "name"), Cell(dataset, "kind"),
                  Cell(dataset, "filename"), size, Cell(dataset, "created_at")});
  }
  context.Print(table.ToString());
  return Status::Ok();
}

Status DownloadDataset(const ClientContext& context) {
  const ClientDatasetFlags& flags = context.state.dataset;
  client::DownloadRequest request;
  request.path = DatasetPath(flags.id) + "/content";
  request.output = flags.output_file;
  request.fallback_name = flags.id;
  if (request.output.empty()) {
    // The dataset's own file name, unless the server names the file itself.
    TY_ASSIGN_OR_RETURN(nlohmann::json dataset, context.api.Get(DatasetPath(flags.id)));
    std::string filename = dataset.value("filename", "");
    if (!filename.empty()) request.fallback_name = std::filesystem::path(filename).filename();
  }
  request.progress = context.ProgressBar("downloading " + flags.id);
  TY_ASSIGN_OR_RETURN(std::filesystem::path written, context.api.Download(request));
  std::fprintf(context.err, "wrote %s\n", written.c_str());
  return Status::Ok();
}

}  // namespace

Status RunDatasetCommand(const std::string& command, const ClientContext& context) {
  const ClientDatasetFlags& flags = context.state.dataset;
  if (command == "dataset upload") return Upload(context);
  if (command == "dataset list") return ListDatasets(context);
  if (command == "dataset download") return DownloadDataset(context);
  if (command == "dataset show") {
    TY_ASSIGN_OR_RETURN(nlohmann::json dataset, context.api.Get(DatasetPath(flags.id)));
    context.json_output ? context.PrintJson(dataset) : context.Print(DatasetDetails(dataset));
    return Status::Ok();
  }
  if (command == "dataset rm") {
    TY_ASSIGN_OR_RETURN(nlohmann::json answer, context.api.Delete(DatasetPath(flags.id)));
    context.json_output ? context.PrintJson(answer)
                        : context.Print("deleted dataset " + flags.id + "\n");
    return Status::Ok();
  }
  return Internal("unknown command '" + command + "'");
}

}  // namespace trainyard::app
