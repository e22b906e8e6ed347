// The layering checker itself, on made-up files: that it can fail, and names the file, the
// include and the rule when it does.
#include "layering_rules.h"

#include <gtest/gtest.h>

namespace trainyard::testing::layering {
namespace {

using Violations = std::vector<Violation>;

TEST(LayeringRulesTest, ModulesComeFromTheFoldersOfTheTable) {
  EXPECT_EQ(ModuleOfFile("src/executor/local/local_executor.cc"), "executor");
  EXPECT_EQ(ModuleOfFile("src/executor/sagemaker/training_job_request.cc"), "executor/sagemaker");
  EXPECT_EQ(ModuleOfFile("src/server/s3/handler.h"), "server/s3");
  EXPECT_EQ(ModuleOfFile("apps/trainyard-wrap/main.cc"), "apps/trainyard-wrap");
  EXPECT_EQ(ModuleOfFile("src/kubernetes/pods.cc"), "");
  EXPECT_EQ(ModuleOfInclude("storage/s3/s3_object_store.h"), "storage");
  EXPECT_EQ(ModuleOfInclude("support/test_paths.h"), "");
  EXPECT_EQ(ModuleOfInclude("server_fixture.h"), "");
}

TEST(LayeringRulesTest, FindsQuotedIncludesOnly) {
  EXPECT_EQ(QuotedIncludes("#include <vector>\n#include \"core/sweep.h\"\n  # include \"a/b.h\"\n"
                           "int x; // #include \"not/this.h\" is not at the start\n"),
            (std::vector<std::string>{"core/sweep.h", "a/b.h"}));
}

TEST(LayeringRulesTest, TheWrapperIncludingTheServerBreaksItsNamedRule) {
  Violations found = CheckFile("src/wrapper/wrapper.cc", "#include \"server/api/router.h\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].ToString(),
            "src/wrapper/wrapper.cc: #include \"server/api/router.h\" breaks the rule: the wrapper "
            "never includes server, control, executor, storage, metadata, aws or client");
}

TEST(LayeringRulesTest, EachNamedRuleFails) {
  auto rule_of = [](const std::string& file, const std::string& include) {
    Violations found = CheckFile(file, "#include \"" + include + "\"\n");
    return found.size() == 1 ? found[0].rule : "(" + std::to_string(found.size()) + " found)";
  };
  EXPECT_EQ(rule_of("src/aws/sigv4.cc", "core/utf8.h"),
            "aws and storage never include core (shared helpers such as UTF-8 live in common)");
  EXPECT_EQ(rule_of("src/storage/object_key.cc", "core/sweep.h"),
            "aws and storage never include core (shared helpers such as UTF-8 live in common)");
  EXPECT_EQ(rule_of("src/executor/sagemaker/x.cc", "metadata/metadata_store.h"),
            "executors never include server, control or metadata");
  EXPECT_EQ(rule_of("src/executor/local/x.cc", "control/scheduler.h"),
            "executors never include server, control or metadata");
  EXPECT_EQ(rule_of("src/control/scheduler.cc", "server/api/events.h"),
            "control never includes server");
  EXPECT_NE(rule_of("src/server/s3/x.cc", "server/sagemaker/y.h").find("protocol endpoints"),
            std::string::npos);
  EXPECT_NE(rule_of("src/server/sagemaker/x.cc", "server/api/y.h").find("protocol endpoints"),
            std::string::npos);
}

TEST(LayeringRulesTest, UpwardIncludesBreakTheArrows) {
  Violations found = CheckFile("src/core/sweep.cc", "#include \"contract/job_json.h\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule,
            "arrows point down only: core may include common and what they may include");
  found = CheckFile("src/metadata/x.cc", "#include \"storage/object_store.h\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].offender, "#include \"storage/object_store.h\"");
}

TEST(LayeringRulesTest, DownwardAndAllowedIncludesPass) {
  EXPECT_EQ(CheckFile("src/app/cli.cc", "#include \"server/api/x.h\"\n#include \"core/y.h\"\n"),
            Violations{});
  EXPECT_EQ(CheckFile("src/server/sagemaker/x.cc", "#include \"server/s3/bucket.h\"\n"),
            Violations{});
  EXPECT_EQ(CheckFile("src/control/x.cc", "#include \"storage/object_store.h\"\n"), Violations{});
  EXPECT_EQ(CheckFile("src/wrapper/x.cc",
                      "#include \"archive/archive.h\"\n"
                      "#include \"support/test_paths.h\"\n"),
            Violations{});
}

TEST(LayeringRulesTest, FilesAndIncludesOutsideTheTableAreReported) {
  Violations found = CheckFile("src/kubernetes/pods.cc", "");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].file, "src/kubernetes/pods.cc");
  found = CheckFile("src/app/x.cc", "#include \"server/kubernetes/pods.h\"\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "every module included lies in the table of docs/architecture.md");
}

TEST(LayeringRulesTest, ReadingTheEnvironmentBelowAppFails) {
  Violations found = CheckFile("src/storage/open.cc",
                               "const char* home = std::getenv(\"HOME\");\n"
                               "extern char** environ;\nauto v = secure_getenv (\"X\");\n");
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].offender, "getenv");
  EXPECT_EQ(found[1].offender, "environ");
  EXPECT_EQ(found[2].offender, "secure_getenv");
  EXPECT_NE(found[0].rule.find("nothing below app reads the process environment"),
            std::string::npos);
}

TEST(LayeringRulesTest, TheEnvironmentMayBeReadByAppTheWrappersMainAndTests) {
  const std::string reads = "extern char** environ;\nauto p = getenv(\"PATH\");\n";
  EXPECT_EQ(CheckFile("src/app/run_command.cc", reads), Violations{});
  EXPECT_EQ(CheckFile("apps/trainyard-wrap/main.cc", reads), Violations{});
  EXPECT_EQ(CheckFile("src/executor/local/local_executor_test.cc", reads), Violations{});
  EXPECT_EQ(CheckFile("src/server/sagemaker/sagemaker_api_fixture.h", reads), Violations{});
  EXPECT_EQ(CheckFile("apps/trainyard/main.cc", reads).size(), 2u);
}

TEST(LayeringRulesTest, CommentsAndStringsAreNotCode) {
  std::string text =
      "// reads getenv( in a comment\n/* environ */ int a = 1'000'000;\n"
      "const char* s = \"getenv(\\\"X\\\")\"; char c = '\\'';\n"
      "auto r = R\"x(environ)\" )x\";\nint environment = 0;\n";
  EXPECT_EQ(CheckFile("src/common/x.cc", text), Violations{});
  EXPECT_EQ(CodeOnly("a /* b */ c"), "a         c");
  EXPECT_EQ(CodeOnly("int n = 1'000; // x\nf(\"y\");"), "int n = 1'000;     \nf(   );");
}

TEST(LayeringRulesTest, TheTableOfArrowsKeepsEveryNamedRule) {
  std::vector<std::string> contradictions = TableAllowsWhatARuleForbids();
  EXPECT_TRUE(contradictions.empty()) << ::testing::PrintToString(contradictions);
}

}  // namespace
}  // namespace trainyard::testing::layering
