#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "archive/archive.h"

namespace trainyard::archive {

bool IsArchiveName(const std::string& file_name) {
  std::string lower(file_name.size(), '\0');
  std::transform(file_name.begin(), file_name.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::array<std::string_view, 4> kSuffixes = {".zip", ".tar", ".tar.gz", ".tgz"};
  return std::any_of(kSuffixes.begin(), kSuffixes.end(), [&](std::string_view suffix) {
    return lower.size() > suffix.size() && lower.ends_with(suffix);
  });
}

}  // namespace trainyard::archive
