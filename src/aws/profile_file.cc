#include "aws/profile_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <system_error>

#include "common/ascii.h"

namespace trainyard::aws {

namespace {

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

std::filesystem::path ExpandHome(const std::string& path, const std::filesystem::path& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home / path.substr(2);
  return path;
}

}  // namespace

Result<ProfileSections> ParseProfileFile(const std::string& text, const std::string& file_name) {
  ProfileSections sections;
  std::map<std::string, std::string>* section = nullptr;
  bool in_sub_settings = false;  // after "key =" with an empty value
  std::istringstream lines(text);
  std::string raw;
  for (int line_number = 1; std::getline(lines, raw); ++line_number) {
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    bool indented = raw[0] == ' ' || raw[0] == '\t';
    if (indented && in_sub_settings) continue;
    in_sub_settings = false;
    if (line[0] == '[') {
      size_t close = line.find(']');
      std::string rest = close == std::string::npos ? "" : Trim(line.substr(close + 1));
      if (close == std::string::npos || (!rest.empty() && rest[0] != '#' && rest[0] != ';')) {
        return InvalidArgument(file_name + " line " + std::to_string(line_number) +
                               ": malformed section header");
      }
      // "[profile   dev]" names the same profile as "[profile dev]".
      std::string name = Trim(line.substr(1, close - 1));
      if (name.rfind("profile", 0) == 0 && name.size() > 7 && (name[7] == ' ' || name[7] == '\t')) {
        name = "profile " + Trim(name.substr(8));
      }
      section = &sections[name];
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string::npos || section == nullptr) {
      return InvalidArgument(
          file_name + " line " + std::to_string(line_number) +
          (section == nullptr ? ": setting outside any [section]" : ": expected 'name = value'"));
    }
    std::string key = AsciiLower(Trim(line.substr(0, equals)));
    std::string value = Trim(line.substr(equals + 1));
    if (value.empty()) in_sub_settings = true;
    (*section)[key] = value;
  }
  return sections;
}

const std::map<std::string, std::string>* FindConfigProfile(const ProfileSections& sections,
                                                            const std::string& profile) {
  // botocore: "[profile NAME]" names a profile in the config file, but the default profile is
  // plain "[default]"; "[profile default]" is accepted too and wins when both exist.
  if (auto found = sections.find("profile " + profile); found != sections.end()) {
    return &found->second;
  }
  if (profile == "default") {
    if (auto found = sections.find("default"); found != sections.end()) return &found->second;
  }
  return nullptr;
}

std::string ProfileName(const EnvironmentMap& environment) {
  std::string profile = EnvironmentValue(environment, "AWS_PROFILE");
  return profile.empty() ? "default" : profile;
}

std::filesystem::path CredentialsFilePath(const EnvironmentMap& environment,
                                          const std::filesystem::path& home) {
  std::string path = EnvironmentValue(environment, "AWS_SHARED_CREDENTIALS_FILE");
  return path.empty() ? home / ".aws" / "credentials" : ExpandHome(path, home);
}

std::filesystem::path ConfigFilePath(const EnvironmentMap& environment,
                                     const std::filesystem::path& home) {
  std::string path = EnvironmentValue(environment, "AWS_CONFIG_FILE");
  return path.empty() ? home / ".aws" / "config" : ExpandHome(path, home);
}

Result<ProfileSections> ReadProfileFile(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return NotFound(path.string() + " does not exist");
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file) return Unavailable("cannot read " + path.string());
  return ParseProfileFile(text.str(), path.string());
}

}  // namespace trainyard::aws
