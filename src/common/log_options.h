// The settings of the log (log.h), apart from spdlog, for options structs that carry them.
#pragma once

#include <string>

#include "common/status.h"

namespace trainyard {

struct LogOptions {
  std::string level = "info";   // trace | debug | info | warn | error | off
  std::string format = "text";  // text: "TIME LEVEL LOGGER: MESSAGE"; json: one object a line
};

// What ConfigureLogging (log.h) checks, changing nothing: InvalidArgument naming the field
// (log level or log format) and the accepted values when one is unknown.
Status CheckLogOptions(const LogOptions& options);

}  // namespace trainyard
