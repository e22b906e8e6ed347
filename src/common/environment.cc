#include "common/environment.h"

namespace trainyard {

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

}  // namespace trainyard
