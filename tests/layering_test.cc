// The layering guard: every file under src/ and apps/ against the rules of docs/architecture.md
// (layering_rules.h). A failure names the file, the include or the environment read, and the
// rule it breaks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "layering_rules.h"
#include "support/test_paths.h"

namespace trainyard::testing::layering {
namespace {

namespace fs = std::filesystem;

// Violations that are known and not fixed yet, each with its reason. The test prints them at
// every run, and fails when one no longer happens, so that this list only ever shrinks.
struct KnownException {
  Violation violation;
  std::string reason;
};
const std::vector<KnownException> kKnownExceptions = {};

std::vector<Violation> CheckTree(const fs::path& source_root) {
  std::vector<Violation> violations;
  for (const char* top : {"src", "apps"}) {
    for (const fs::directory_entry& entry : fs::recursive_directory_iterator(source_root / top)) {
      std::string extension = entry.path().extension().string();
      if (!entry.is_regular_file() || (extension != ".cc" && extension != ".h")) continue;
      std::ifstream in(entry.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      std::string path = entry.path().lexically_relative(source_root).generic_string();
      for (Violation& violation : CheckFile(path, text)) violations.push_back(std::move(violation));
    }
  }
  return violations;
}

bool IsKnown(const Violation& violation) {
  return std::any_of(kKnownExceptions.begin(), kKnownExceptions.end(),
                     [&](const KnownException& known) { return known.violation == violation; });
}

TEST(LayeringTest, EveryIncludeAndEnvironmentReadKeepsTheRules) {
  std::printf("rules (docs/architecture.md):\n");
  for (const std::string& rule : RuleTexts()) std::printf("  - %s\n", rule.c_str());
  std::printf("known exceptions: %zu\n", kKnownExceptions.size());
  for (const KnownException& known : kKnownExceptions) {
    std::printf("  - %s\n    because %s\n", known.violation.ToString().c_str(),
                known.reason.c_str());
  }

  std::vector<Violation> violations = CheckTree(SourceDir());
  for (const Violation& violation : violations) {
    if (!IsKnown(violation)) ADD_FAILURE() << violation.ToString();
  }
  for (const KnownException& known : kKnownExceptions) {
    EXPECT_TRUE(std::find(violations.begin(), violations.end(), known.violation) !=
                violations.end())
        << "a known exception no longer happens; remove it from the list: "
        << known.violation.ToString();
  }
}

}  // namespace
}  // namespace trainyard::testing::layering
