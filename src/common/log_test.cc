#include "common/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "common/log_capture.h"

namespace trainyard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(ConfigureLoggingTest, AcceptsEveryDocumentedLevelAndFormat) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    for (const char* format : {"text", "json"}) {
      EXPECT_TRUE(CheckLogOptions({level, format}).ok()) << level << " " << format;
    }
  }
}

TEST(ConfigureLoggingTest, RefusesAnUnknownLevelOrFormatNamingTheField) {
  Status level = ConfigureLogging({.level = "verbose"});
  EXPECT_EQ(level.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(level.message(), HasSubstr("log level 'verbose'"));
  EXPECT_THAT(level.message(), HasSubstr("trace, debug, info, warn, error, off"));
  // spdlog's own spellings are not ours: one name per level.
  EXPECT_FALSE(ConfigureLogging({.level = "warning"}).ok());

  Status format = ConfigureLogging({.format = "xml"});
  EXPECT_EQ(format.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(format.message(), HasSubstr("log format 'xml'"));
  EXPECT_THAT(format.message(), HasSubstr("text, json"));
}

TEST(ConfigureLoggingTest, ARefusedConfigurationChangesNothing) {
  LogCapture log({.level = "warn"});
  EXPECT_FALSE(ConfigureLogging({.level = "debug", .format = "yaml"}).ok());
  Logger("test").info("dropped at warn");
  Logger("test").warn("kept");
  ASSERT_EQ(log.Lines().size(), 1u);
  EXPECT_THAT(log.Lines()[0], HasSubstr("kept"));
}

TEST(LoggerTest, IsOneLoggerPerModuleNamedAfterIt) {
  EXPECT_EQ(&Logger("control"), &Logger("control"));
  EXPECT_NE(&Logger("control"), &Logger("api"));
  EXPECT_EQ(Logger("api").name(), "api");
}

TEST(LoggerTest, LoggersMadeBeforeConfigureLoggingFollowIt) {
  spdlog::logger& early = Logger("made-early");
  LogCapture log({.level = "error"});
  early.warn("below error");
  early.error("job={} failed", "sw-1-001");
  EXPECT_THAT(log.Lines(), ElementsAre(HasSubstr("job=sw-1-001 failed")));
}

TEST(LogFormatTest, TextIsTimeLevelLoggerAndMessageOnOneLine) {
  LogCapture log({.level = "debug", .format = "text"});
  Logger("control").warn("job={} could not be finished: {}", "sw-1-001", "disk full");
  Logger("control").debug("a message\nthat tries to forge a second entry");
  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 2u) << log.Text();
  EXPECT_THAT(lines[0], MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z warn "
                                     "control: job=sw-1-001 could not be finished: disk full"));
  EXPECT_THAT(lines[1], HasSubstr("debug control: a message\\nthat tries"));
}

TEST(LogFormatTest, JsonIsOneValidObjectPerLine) {
  LogCapture log({.level = "info", .format = "json"});
  Logger("api").info("method=GET path=/api/v1/jobs status=200");
  Logger("s3").error("a \"quoted\" message\nover two lines, with a \\ and a tab\t");
  Logger("s3").warn("bytes that are not UTF-8: \xff\xfe");
  std::vector<std::string> lines = log.Lines();
  ASSERT_EQ(lines.size(), 3u) << log.Text();
  std::vector<nlohmann::json> entries;
  for (const std::string& line : lines) {
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(entry.is_object()) << line;
    EXPECT_EQ(entry.size(), 4u) << line;
    EXPECT_TRUE(std::regex_match(entry.value("time", ""),
                                 std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z")))
        << line;
    entries.push_back(entry);
  }
  EXPECT_EQ(entries[0]["level"], "info");
  EXPECT_EQ(entries[0]["logger"], "api");
  EXPECT_EQ(entries[0]["msg"], "method=GET path=/api/v1/jobs status=200");
  EXPECT_EQ(entries[1]["level"], "error");
  EXPECT_EQ(entries[1]["msg"], "a \"quoted\" message\nover two lines, with a \\ and a tab\t");
  EXPECT_EQ(entries[2]["level"], "warn");
  EXPECT_THAT(entries[2]["msg"].get<std::string>(), HasSubstr("not UTF-8: "));
}

TEST(WarnIfFailedTest, LogsOnlyAFailureWithItsContext) {
  LogCapture log;
  WarnIfFailed("executor", Status::Ok(), "job={} not logged", "sw-1-001");
  WarnIfFailed("executor", NotFound("container 'x' not found"), "job={} could not be stopped",
               "sw-1-002");
  EXPECT_THAT(log.Lines(), ElementsAre(HasSubstr(
                               "warn executor: job=sw-1-002 could not be stopped: container 'x' "
                               "not found")));
}

TEST(LogFormatTest, OffWritesNothing) {
  LogCapture log({.level = "off"});
  Logger("control").error("not written");
  EXPECT_EQ(log.Text(), "");
}

}  // namespace
}  // namespace trainyard
