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

// The inverse: words joined by spaces, each single-quoted unless it is made only of characters
// no shell treats specially, so that SplitCommandLine(JoinCommandLine(w)) == w.
std::string JoinCommandLine(const std::vector<std::string>& words);

}  // namespace trainyard::core
