// The two timestamp spellings SigV4 uses. Thread-safe.
#pragma once

#include <string>

#include "common/time_format.h"

namespace trainyard::aws {

// "20150830T123600Z" (ISO 8601 basic format, UTC, whole seconds): the X-Amz-Date value.
std::string FormatAmzDate(TimePoint time);

// "20150830": the date part of the credential scope.
std::string FormatAmzDay(TimePoint time);

}  // namespace trainyard::aws
