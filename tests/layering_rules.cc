#include "layering_rules.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

namespace trainyard::testing::layering {
namespace {

// docs/architecture.md's diagram, one entry per module: the modules its arrows point at. A
// module may include these and, transitively, whatever they may include (arrows point down).
const std::map<std::string, std::vector<std::string>>& Arrows() {
  static const auto* arrows = new std::map<std::string, std::vector<std::string>>{
      {"apps/trainyard", {"app"}},
      {"apps/trainyard-wrap", {"wrapper"}},
      {"app",
       {"server/api", "server/s3", "server/sagemaker", "executor/sagemaker", "executor/slurm",
        "client"}},
      {"server/api", {"notify", "control", "graphql", "server/http", "server/web"}},
      {"server/web", {"server/http"}},
      {"server/s3", {"server/http", "storage", "aws"}},
      {"server/sagemaker", {"server/s3", "control", "executor", "storage", "aws"}},
      {"executor/sagemaker", {"executor", "storage", "aws"}},
      {"executor/slurm", {"executor", "aws"}},
      {"notify", {"control"}},
      {"control", {"executor", "metadata", "storage"}},
      {"executor", {"contract", "archive"}},
      {"wrapper", {"contract", "archive", "core", "common"}},
      {"contract", {"core"}},
      {"archive", {"common"}},
      {"core", {"common"}},
      {"metadata", {"core"}},
      {"storage", {"aws"}},
      {"aws", {"common"}},
      {"server/http", {"common"}},
      {"graphql", {"common"}},
      {"client", {"common"}},
      {"common", {}},
  };
  return *arrows;
}

// A rule that holds whatever the table says: no module of `from` includes a module of `to`,
// except the pairs in `except`. A group ("server") stands for itself and every module inside it.
struct NamedRule {
  std::vector<std::string> from;
  std::vector<std::string> to;
  std::set<std::pair<std::string, std::string>> except;
  std::string text;
};

const std::vector<NamedRule>& NamedRules() {
  static const auto* rules = new std::vector<NamedRule>{
      {{"wrapper", "apps/trainyard-wrap"},
       {"server", "control", "executor", "storage", "metadata", "aws", "client"},
       {},
       "the wrapper never includes server, control, executor, storage, metadata, aws or client"},
      {{"aws", "storage"},
       {"core"},
       {},
       "aws and storage never include core (shared helpers such as UTF-8 live in common)"},
      {{"executor"},
       {"server", "control", "metadata"},
       {},
       "executors never include server, control or metadata"},
      {{"control"}, {"server"}, {}, "control never includes server"},
      {{"notify"}, {"server"}, {}, "notify never includes server"},
      {{"server/api", "server/s3", "server/sagemaker"},
       {"server/api", "server/s3", "server/sagemaker"},
       {{"server/sagemaker", "server/s3"}},
       "the protocol endpoints (server/api, server/s3, server/sagemaker) never include one "
       "another, except that server/sagemaker may use server/s3"},
  };
  return *rules;
}

constexpr char kEnvironmentRule[] =
    "nothing below app reads the process environment (getenv, secure_getenv, environ): modules "
    "take what they need as Options or an environment map; the one exception is "
    "trainyard-wrap's main (apps/trainyard-wrap/main.cc), which reads the in-job environment "
    "once and hands it down; tests (*_test.cc, *_fixture.*) may read theirs";

bool InGroup(const std::string& module, const std::string& group) {
  return module == group || module.starts_with(group + "/");
}

bool InAnyGroup(const std::string& module, const std::vector<std::string>& groups) {
  return std::any_of(groups.begin(), groups.end(),
                     [&](const std::string& group) { return InGroup(module, group); });
}

// Every module `module` may include: itself and all that its arrows reach.
std::set<std::string> Reachable(const std::string& module) {
  std::set<std::string> reached = {module};
  std::vector<std::string> pending = {module};
  while (!pending.empty()) {
    std::string next = pending.back();
    pending.pop_back();
    auto arrows = Arrows().find(next);
    if (arrows == Arrows().end()) continue;
    for (const std::string& below : arrows->second) {
      if (reached.insert(below).second) pending.push_back(below);
    }
  }
  return reached;
}

std::string ArrowsRule(const std::string& module) {
  std::string text = "arrows point down only: " + module + " may include ";
  const std::vector<std::string>& below = Arrows().at(module);
  if (below.empty()) return text + "no other module";
  for (size_t i = 0; i < below.size(); ++i) text += (i ? ", " : "") + below[i];
  return text + " and what they may include";
}

// The rule broken when `from` includes `to`, or "" when none is.
std::string BrokenIncludeRule(const std::string& from, const std::string& to) {
  if (from == to) return "";
  for (const NamedRule& rule : NamedRules()) {
    if (InAnyGroup(from, rule.from) && InAnyGroup(to, rule.to) && !rule.except.contains({from, to}))
      return rule.text;
  }
  if (!Reachable(from).contains(to)) return ArrowsRule(from);
  return "";
}

bool IsTestFile(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  return name.ends_with("_test.cc") || name.find("_fixture.") != std::string_view::npos;
}

bool MayReadEnvironment(std::string_view path) {
  return path.starts_with("src/app/") || path == "apps/trainyard-wrap/main.cc" || IsTestFile(path);
}

// The longest module of the table that `path` (relative to src/ or apps/'s parent) lies in.
std::string LongestModulePrefix(std::string_view path) {
  std::string best;
  for (const auto& [module, below] : Arrows()) {
    if (path.starts_with(module + "/") && module.size() > best.size()) best = module;
  }
  return best;
}

std::set<std::string> SourceFolders() {
  std::set<std::string> folders;
  for (const auto& [module, below] : Arrows()) {
    if (!module.starts_with("apps/")) folders.insert(module.substr(0, module.find('/')));
  }
  return folders;
}

}  // namespace

std::string Violation::ToString() const {
  return file + ": " + offender + " breaks the rule: " + rule;
}

std::string ModuleOfFile(std::string_view path_from_root) {
  if (path_from_root.starts_with("src/")) return LongestModulePrefix(path_from_root.substr(4));
  if (path_from_root.starts_with("apps/")) return LongestModulePrefix(path_from_root);
  return "";
}

std::string ModuleOfInclude(std::string_view include) {
  return LongestModulePrefix(include);
}

std::vector<std::string> QuotedIncludes(std::string_view text) {
  static const std::regex kInclude(R"re(^\s*#\s*include\s*"([^"]+)")re");
  std::vector<std::string> includes;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    std::smatch match;
    if (std::regex_search(line, match, kInclude)) includes.push_back(match[1]);
    start = end + 1;
  }
  return includes;
}

std::string CodeOnly(std::string_view text) {
  std::string code(text);
  auto blank = [&](size_t from, size_t to) {
    for (size_t i = from; i < to && i < code.size(); ++i) {
      if (code[i] != '\n') code[i] = ' ';
    }
  };
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  size_t i = 0;
  while (i < code.size()) {
    if (code.compare(i, 2, "//") == 0) {
      size_t end = code.find('\n', i);
      end = end == std::string::npos ? code.size() : end;
      blank(i, end);
      i = end;
    } else if (code.compare(i, 2, "/*") == 0) {
      size_t end = code.find("*/", i + 2);
      end = end == std::string::npos ? code.size() : end + 2;
      blank(i, end);
      i = end;
    } else if (code[i] == '"' && i > 0 && code[i - 1] == 'R') {
      // R"delimiter( ... )delimiter"
      size_t open = code.find('(', i);
      std::string close = ")" + code.substr(i + 1, open - i - 1) + "\"";
      size_t end = open == std::string::npos ? std::string::npos : code.find(close, open);
      end = end == std::string::npos ? code.size() : end + close.size();
      blank(i, end);
      i = end;
    } else if (code[i] == '\'' && i > 0 && std::isdigit(static_cast<unsigned char>(code[i - 1])) &&
               i + 1 < code.size() && is_word(code[i + 1])) {
      ++i;  // a digit separator: 1'000'000
    } else if (code[i] == '"' || code[i] == '\'') {
      char quote = code[i];
      size_t end = i + 1;
      while (end < code.size() && code[end] != quote && code[end] != '\n') {
        end += code[end] == '\\' ? 2 : 1;
      }
      end = std::min(end + 1, code.size());
      blank(i, end);
      i = end;
    } else {
      ++i;
    }
  }
  return code;
}

std::vector<Violation> CheckFile(const std::string& path_from_root, std::string_view text) {
  std::vector<Violation> violations;
  std::string module = ModuleOfFile(path_from_root);
  if (module.empty()) {
    violations.push_back({path_from_root, "the file",
                          "every file under src/ and apps/ lies in a module of the table"});
    return violations;
  }
  static const std::set<std::string> kSourceFolders = SourceFolders();
  for (const std::string& include : QuotedIncludes(text)) {
    std::string offender = "#include \"" + include + "\"";
    std::string target = ModuleOfInclude(include);
    if (target.empty()) {
      size_t slash = include.find('/');
      if (slash != std::string::npos && kSourceFolders.contains(include.substr(0, slash))) {
        violations.push_back({path_from_root, offender,
                              "every module included lies in the table of docs/architecture.md"});
      }
      continue;
    }
    if (std::string rule = BrokenIncludeRule(module, target); !rule.empty()) {
      violations.push_back({path_from_root, offender, rule});
    }
  }
  if (!MayReadEnvironment(path_from_root)) {
    static const std::regex kEnvironmentRead(R"(\b(secure_getenv|getenv)\s*\(|\benviron\b)");
    std::string code = CodeOnly(text);
    for (std::sregex_iterator match(code.begin(), code.end(), kEnvironmentRead), end; match != end;
         ++match) {
      std::string name = (*match)[1].matched ? (*match)[1].str() : "environ";
      violations.push_back({path_from_root, name, kEnvironmentRule});
    }
  }
  return violations;
}

std::vector<std::string> TableAllowsWhatARuleForbids() {
  std::vector<std::string> contradictions;
  for (const NamedRule& rule : NamedRules()) {
    for (const auto& [from, arrows] : Arrows()) {
      if (!InAnyGroup(from, rule.from)) continue;
      for (const std::string& to : Reachable(from)) {
        if (to != from && InAnyGroup(to, rule.to) && !rule.except.contains({from, to})) {
          contradictions.push_back(from + " -> " + to + " (" + rule.text + ")");
        }
      }
    }
  }
  return contradictions;
}

std::vector<std::string> RuleTexts() {
  std::vector<std::string> texts;
  for (const NamedRule& rule : NamedRules()) texts.push_back(rule.text);
  texts.push_back("arrows point down only: a module includes only what the diagram's arrows reach");
  texts.push_back(kEnvironmentRule);
  return texts;
}

}  // namespace trainyard::testing::layering
