#include "graphql/suggestions.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "common/ascii.h"

namespace trainyard::graphql {
namespace {

std::optional<size_t> Distance(const std::string& input, const std::string& option,
                               size_t threshold) {
  if (input == option) return 0;
  std::string a = AsciiLower(option), b = AsciiLower(input);
  if (a == b) return 1;
  if (a.size() < b.size()) std::swap(a, b);
  if (a.size() - b.size() > threshold) return std::nullopt;
  std::vector<std::vector<size_t>> rows(3, std::vector<size_t>(b.size() + 1));
  for (size_t j = 0; j <= b.size(); ++j) rows[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    auto& up = rows[(i - 1) % 3];
    auto& current = rows[i % 3];
    current[0] = i;
    size_t smallest = current[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t value = std::min({up[j] + 1, current[j - 1] + 1, up[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        value = std::min(value, rows[(i - 2) % 3][j - 2] + 1);  // a transposition
      }
      current[j] = value;
      smallest = std::min(smallest, value);
    }
    if (smallest > threshold) return std::nullopt;
  }
  size_t distance = rows[a.size() % 3][b.size()];
  if (distance > threshold) return std::nullopt;
  return distance;
}

}  // namespace

std::vector<std::string> SuggestionList(const std::string& input,
                                        const std::vector<std::string>& options) {
  size_t threshold = input.size() * 4 / 10 + 1;
  std::vector<std::pair<size_t, std::string>> found;
  for (const std::string& option : options) {
    if (auto distance = Distance(input, option, threshold)) found.emplace_back(*distance, option);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& [distance, name] : found) names.push_back(std::move(name));
  return names;
}

std::string DidYouMean(const std::vector<std::string>& suggestions, const std::string& what) {
  if (suggestions.empty()) return "";
  std::string message = " Did you mean " + (what.empty() ? "" : what + " ");
  std::vector<std::string> quoted;
  for (size_t i = 0; i < suggestions.size() && i < 5; ++i) {
    quoted.push_back("\"" + suggestions[i] + "\"");
  }
  if (quoted.size() == 1) return message + quoted[0] + "?";
  if (quoted.size() == 2) return message + quoted[0] + " or " + quoted[1] + "?";
  for (size_t i = 0; i + 1 < quoted.size(); ++i) message += quoted[i] + ", ";
  return message + "or " + quoted.back() + "?";
}

}  // namespace trainyard::graphql
