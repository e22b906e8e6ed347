// The process environment as a map, read once by a main and handed down: nothing below app/
// reads the environment itself.
//
// A job's environment is built, never inherited: what its executor sets (its own variables,
// the contract's) plus the few host variables JobHostEnvironment lets through
// (docs/security.md, "A job's environment").
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace trainyard {

using EnvironmentMap = std::map<std::string, std::string>;

// Parses a NULL-terminated array of "KEY=VALUE" strings (the `environ` of a process).
EnvironmentMap ParseEnvironment(char** entries);
// The reverse, for execve: "KEY=VALUE" strings.
std::vector<std::string> FormatEnvironment(const EnvironmentMap& environment);
// The value of `name`; empty when it is not set.
std::string EnvironmentValue(const EnvironmentMap& environment, const std::string& name);

// Whether a host variable is on the allowlist of those every job gets: PATH, HOME, USER,
// LOGNAME, LANG, LANGUAGE, LC_*, TZ, TMPDIR, the proxies (http_proxy, https_proxy, no_proxy,
// all_proxy, in lower and upper case), CUDA_*, NVIDIA_* and LD_LIBRARY_PATH. A name that
// IsNeverPassedToJobs is not, whatever its prefix (NVIDIA_API_KEY).
bool IsJobHostVariable(std::string_view name);

// Whether a variable's name says that its value is a secret: it contains SECRET, TOKEN,
// PASSWORD, PASSWD, CREDENTIAL, PRIVATE_KEY, ACCESS_KEY or API_KEY (any case), except a name
// ending in _FILE, _PATH or _DIR, whose value is where a secret lies (AWS_WEB_IDENTITY_TOKEN_FILE).
// AWS_ACCESS_KEY_ID counts: it names whose secret is in use.
bool IsSecretName(std::string_view name);

// Names no job gets from the host, not even when an operator asks for it: trainyard's own
// (TRAINYARD_*), AWS's (AWS_*: the server's credentials and their sources) and every
// IsSecretName. A job that needs a credential gets it in its own environment.
bool IsNeverPassedToJobs(std::string_view name);

// InvalidArgument, saying why, for a name that cannot be passed through to jobs: not a variable
// name, or IsNeverPassedToJobs.
Status CheckJobPassthroughName(const std::string& name);

// The part of `host` that a job gets: the allowlist (IsJobHostVariable) plus the names in
// `passthrough` (the operator's --job-env-passthrough), never a name IsNeverPassedToJobs.
EnvironmentMap JobHostEnvironment(const EnvironmentMap& host,
                                  const std::vector<std::string>& passthrough = {});

}  // namespace trainyard
