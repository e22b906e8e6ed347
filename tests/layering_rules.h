// The layering rules of docs/architecture.md ("Rules of the layers") as code: the module each
// source file and each `#include "module/…"` belongs to, which modules each module may include
// (one table of arrows, read off the diagram), the named rules that must never be broken, and
// who may read the process environment. layering_test.cc applies them to src/ and apps/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace trainyard::testing::layering {

struct Violation {
  std::string file;      // from the source root: "src/wrapper/wrapper.cc"
  std::string offender;  // the include ("server/api/router.h") or the read ("getenv")
  std::string rule;      // as docs/architecture.md words it

  // "src/wrapper/wrapper.cc: #include "server/api/router.h" breaks: the wrapper never ..."
  std::string ToString() const;
  bool operator==(const Violation&) const = default;
};

// The module of a file named from the source root ("src/executor/local/x.cc" → "executor",
// "src/server/s3/x.h" → "server/s3", "apps/trainyard-wrap/main.cc" → "apps/trainyard-wrap"), or
// "" when it lies in no module of the table.
std::string ModuleOfFile(std::string_view path_from_root);

// The module an include names ("executor/sagemaker/x.h" → "executor/sagemaker"); "" when its
// first folder is not one of src/ (a test's "support/x.h", a header beside the file).
std::string ModuleOfInclude(std::string_view include);

// Every `#include "…"` of a C++ file's text, in order.
std::vector<std::string> QuotedIncludes(std::string_view text);

// The text with comments, string literals and character literals blanked out, so that a word
// in a comment or a message is not taken for code.
std::string CodeOnly(std::string_view text);

// Every rule one file breaks: its includes against the named rules and the table of arrows, and
// its environment reads against the environment rule.
std::vector<Violation> CheckFile(const std::string& path_from_root, std::string_view text);

// Pairs (from, to) that a named rule forbids but the table of arrows allows: the two must agree,
// or the table is wrong.
std::vector<std::string> TableAllowsWhatARuleForbids();

// The rules, one line each, as docs/architecture.md lists them.
std::vector<std::string> RuleTexts();

}  // namespace trainyard::testing::layering
