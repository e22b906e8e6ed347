#include "common/environment.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace trainyard {
namespace {

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

bool IsVariableName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

}  // namespace

EnvironmentMap ParseEnvironment(char** entries) {
  EnvironmentMap environment;
  for (char** entry = entries; entry && *entry; ++entry) {
    std::string text(*entry);
    size_t equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return environment;
}

std::vector<std::string> FormatEnvironment(const EnvironmentMap& environment) {
  std::vector<std::string> entries;
  entries.reserve(environment.size());
  for (const auto& [key, value] : environment) entries.push_back(key + "=" + value);
  return entries;
}

std::string EnvironmentValue(const EnvironmentMap& environment, const std::string& name) {
  auto found = environment.find(name);
  return found == environment.end() ? std::string() : found->second;
}

bool IsJobHostVariable(std::string_view name) {
  // Why each one is here: docs/security.md, "A job's environment".
  static constexpr std::array<std::string_view, 17> kNames = {
      "PATH",       "HOME",        "USER",       "LOGNAME",     "LANG",           "LANGUAGE",
      "TZ",         "TMPDIR",      "http_proxy", "https_proxy", "no_proxy",       "all_proxy",
      "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",   "ALL_PROXY",   "LD_LIBRARY_PATH"};
  static constexpr std::array<std::string_view, 3> kPrefixes = {"LC_", "CUDA_", "NVIDIA_"};
  if (IsNeverPassedToJobs(name)) return false;
  if (std::find(kNames.begin(), kNames.end(), name) != kNames.end()) return true;
  return std::any_of(kPrefixes.begin(), kPrefixes.end(),
                     [name](std::string_view prefix) { return name.starts_with(prefix); });
}

bool IsSecretName(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kWords = {
      "SECRET",     "TOKEN",       "PASSWORD",   "PASSWD",
      "CREDENTIAL", "PRIVATE_KEY", "ACCESS_KEY", "API_KEY"};
  std::string upper = Upper(name);
  for (std::string_view suffix : {"_FILE", "_PATH", "_DIR"}) {
    if (upper.ends_with(suffix)) return false;
  }
  return std::any_of(kWords.begin(), kWords.end(), [&upper](std::string_view word) {
    return upper.find(word) != std::string::npos;
  });
}

bool IsNeverPassedToJobs(std::string_view name) {
  std::string upper = Upper(name);
  return upper.starts_with("TRAINYARD_") || upper.starts_with("AWS_") || IsSecretName(name) ||
         // A credential's source, though its value is only a path.
         upper.find("CREDENTIAL") != std::string::npos || upper.find("TOKEN") != std::string::npos;
}

Status CheckJobPassthroughName(const std::string& name) {
  if (!IsVariableName(name)) {
    return InvalidArgument("'" + name + "' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
  }
  if (IsNeverPassedToJobs(name)) {
    return InvalidArgument("'" + name +
                           "' is never passed to jobs: TRAINYARD_*, AWS_* and names of "
                           "credentials (SECRET, TOKEN, PASSWORD, KEY...) stay the server's; "
                           "give a job its credentials in its own environment");
  }
  return Status::Ok();
}

EnvironmentMap JobHostEnvironment(const EnvironmentMap& host,
                                  const std::vector<std::string>& passthrough) {
  EnvironmentMap environment;
  for (const auto& [key, value] : host) {
    if (IsJobHostVariable(key)) environment[key] = value;
  }
  for (const std::string& name : passthrough) {
    auto it = host.find(name);
    if (it != host.end() && !IsNeverPassedToJobs(name)) environment[name] = it->second;
  }
  return environment;
}

}  // namespace trainyard
