// Reads the AWS shared credentials and config files (INI dialect of botocore). Thread-safe (pure
// functions).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/environment.h"
#include "common/status.h"

namespace trainyard::aws {

// Section name -> key (lower-cased) -> value, exactly as the file names them: "default",
// "profile dev" (config) or "dev" (credentials).
using ProfileSections = std::map<std::string, std::map<std::string, std::string>>;

// botocore's reading: full-line comments start with '#' or ';'; keys are case-insensitive and
// trimmed, as are values; a section header may carry a trailing comment; indented lines under a
// key with an empty value are that key's sub-settings ("s3 =\n  max_concurrent_requests = 2") and
// are skipped, as nothing here uses them. Lines that are none of these are InvalidArgument naming
// the file and line number (never the line's text, which may hold a secret).
Result<ProfileSections> ParseProfileFile(const std::string& text, const std::string& file_name);

// The section of `profile` in a config file: "[default]" for "default" (or "[profile default]"),
// else "[profile NAME]". nullptr when absent.
const std::map<std::string, std::string>* FindConfigProfile(const ProfileSections& sections,
                                                            const std::string& profile);

// AWS_PROFILE, else "default".
std::string ProfileName(const EnvironmentMap& environment);

// AWS_SHARED_CREDENTIALS_FILE, else HOME/.aws/credentials (a leading "~/" means `home`).
std::filesystem::path CredentialsFilePath(const EnvironmentMap& environment,
                                          const std::filesystem::path& home);
// AWS_CONFIG_FILE, else HOME/.aws/config.
std::filesystem::path ConfigFilePath(const EnvironmentMap& environment,
                                     const std::filesystem::path& home);

// The parsed file; NotFound when it does not exist, Unavailable when it cannot be read.
Result<ProfileSections> ReadProfileFile(const std::filesystem::path& path);

}  // namespace trainyard::aws
