#include "aws/shared_files_provider.h"

#include <optional>
#include <vector>

#include "aws/profile_file.h"

namespace trainyard::aws {

namespace {

std::string Value(const std::map<std::string, std::string>& section, const std::string& key) {
  auto found = section.find(key);
  return found == section.end() ? std::string() : found->second;
}

// Credentials from one section; NotFound when it has neither key.
Result<TimedCredentials> FromSection(const std::map<std::string, std::string>& section,
                                     const std::string& where, const std::string& source) {
  TimedCredentials result;
  result.source = source;
  result.credentials.access_key_id = Value(section, "aws_access_key_id");
  result.credentials.secret_access_key = Value(section, "aws_secret_access_key");
  result.credentials.session_token = Value(section, "aws_session_token");
  bool has_id = !result.credentials.access_key_id.empty();
  bool has_secret = !result.credentials.secret_access_key.empty();
  if (!has_id && !has_secret) return NotFound(where + " has no aws_access_key_id");
  // botocore raises PartialCredentialsError here rather than trying the next source.
  if (!has_id)
    return InvalidArgument(where + " has aws_secret_access_key but no aws_access_key_id");
  if (!has_secret) {
    return InvalidArgument(where + " has aws_access_key_id but no aws_secret_access_key");
  }
  return result;
}

// One of the two files: its credentials, or an error that ends the search, or nullopt with the
// reason noted in `reasons` when the profile is simply not there (try the next file).
std::optional<Result<TimedCredentials>> FromFile(const std::filesystem::path& path,
                                                 bool config_format, const std::string& profile,
                                                 std::vector<std::string>& reasons) {
  auto file = ReadProfileFile(path);
  if (!file.ok()) {
    if (file.status().code() != StatusCode::kNotFound) return file.status();
    reasons.push_back(file.status().message());
    return std::nullopt;
  }
  // The credentials file names profiles plainly ("[dev]"); the config file says "[profile dev]",
  // except for "[default]".
  const std::map<std::string, std::string>* section = nullptr;
  std::string header = "[" + profile + "]";
  if (config_format) {
    section = FindConfigProfile(*file, profile);
    if (profile != "default") header = "[profile " + profile + "]";
  } else if (auto found = file->find(profile); found != file->end()) {
    section = &found->second;
  }
  if (section == nullptr) {
    reasons.push_back(path.string() + " has no " + (config_format ? "" : "profile ") + header);
    return std::nullopt;
  }
  std::string source = config_format ? "shared-config-file:" : "shared-credentials-file:";
  auto found = FromSection(*section, path.string() + " " + header, source + profile);
  if (found.ok() || found.status().code() != StatusCode::kNotFound) return found;
  reasons.push_back(found.status().message());
  return std::nullopt;
}

}  // namespace

Result<TimedCredentials> SharedFilesProvider::Fetch() {
  std::string profile = ProfileName(environment_);
  std::vector<std::string> reasons;
  // The credentials file first, then the config file, as botocore reads them.
  if (auto found = FromFile(CredentialsFilePath(environment_, home_), false, profile, reasons)) {
    return *found;
  }
  if (auto found = FromFile(ConfigFilePath(environment_, home_), true, profile, reasons)) {
    return *found;
  }

  std::string message = "profile '" + profile + "' has no credentials (";
  for (size_t i = 0; i < reasons.size(); ++i) message += (i ? "; " : "") + reasons[i];
  return NotFound(message + ")");
}

Result<std::string> ResolveRegion(const EnvironmentMap& environment,
                                  const std::filesystem::path& home) {
  if (std::string region = EnvironmentValue(environment, "AWS_REGION"); !region.empty())
    return region;
  if (std::string region = EnvironmentValue(environment, "AWS_DEFAULT_REGION"); !region.empty())
    return region;
  std::string profile = ProfileName(environment);
  std::filesystem::path config_path = ConfigFilePath(environment, home);
  std::string looked = "no AWS region: AWS_REGION and AWS_DEFAULT_REGION are not set, and ";
  auto config_file = ReadProfileFile(config_path);
  if (!config_file.ok()) {
    if (config_file.status().code() != StatusCode::kNotFound) return config_file.status();
    return NotFound(looked + config_path.string() + " does not exist");
  }
  const auto* section = FindConfigProfile(*config_file, profile);
  std::string header = profile == "default" ? "[default]" : "[profile " + profile + "]";
  if (section == nullptr) return NotFound(looked + config_path.string() + " has no " + header);
  std::string region = Value(*section, "region");
  if (region.empty()) {
    return NotFound(looked + config_path.string() + " " + header + " sets no region");
  }
  return region;
}

}  // namespace trainyard::aws
