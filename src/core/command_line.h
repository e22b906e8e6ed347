// Command lines given as one string (TRAINYARD_COMMAND, `trainyard sweep create --command`).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace trainyard::core {

// Splits a command line into words as a POSIX shell would for plain words, 'single' and
// "double" quotes and backslash escapes, without expanding anything. InvalidArgument for an
// unterminated quote.
Result<std::vector<std::string>> SplitCommandLine(const std::string& text);

}  // namespace trainyard::core
