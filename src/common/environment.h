// The process environment as a map, read once by a main and handed down: nothing below app/
// reads the environment itself.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace trainyard {

using EnvironmentMap = std::map<std::string, std::string>;

// Parses a NULL-terminated array of "KEY=VALUE" strings (the `environ` of a process).
EnvironmentMap ParseEnvironment(char** entries);
// The reverse, for execve: "KEY=VALUE" strings.
std::vector<std::string> FormatEnvironment(const EnvironmentMap& environment);

}  // namespace trainyard
