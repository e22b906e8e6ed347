// Logging: one named spdlog logger per module, all writing to the process's one sink (stderr).
//
//   Logger("control").warn("job={} could not be finished: {}", job_name, status.message());
//
// Messages carry their context as key=value pairs (job=, sweep=, request=) and are written at a
// module's boundaries, not in loops. Secrets (tokens, keys, signatures, Authorization headers)
// never go into a message.
//
// Include this header from .cc files only: spdlog and fmt are costly to compile, and headers
// that include it would spread that cost to every file including them. trainyard-wrap must not
// log through it (it would need libspdlog and libfmt in every image; see apps/CMakeLists.txt),
// so the modules it links (wrapper, contract, archive, core, common) do not either.
//
// Thread-safe: loggers may be used from any thread, and ConfigureLogging may run while they are.
#pragma once

#include <spdlog/logger.h>

#include <string>
#include <utility>

#include "common/log_options.h"
#include "common/status.h"

namespace trainyard {

// The logger named `module`, made on first use with the configured level and sink. The
// reference stays valid for the life of the process.
spdlog::logger& Logger(const std::string& module);

// Sets the level and format of every logger, existing and future. InvalidArgument as
// CheckLogOptions (log_options.h) says; nothing changes then.
// Until it is called, loggers write text at level info.
Status ConfigureLogging(const LogOptions& options);

// For an error that is worked around rather than returned: when `status` failed, logs at warn
// the context `what` formats (key=value pairs, "job={}") and the error's message.
//
//   WarnIfFailed("executor", job.status.Fail(reason, now), "job={} could not be failed", name);
template <typename... Args>
void WarnIfFailed(const std::string& module, const Status& status,
                  spdlog::format_string_t<Args...> what, Args&&... args) {
  if (status.ok()) return;
  Logger(module).warn("{}: {}", fmt::format(what, std::forward<Args>(args)...), status.message());
}

}  // namespace trainyard
