// The CloudWatch Logs calls over a finished job's log: its stream, GetLogEvents' paging in both
// directions (and the forward token that repeats at the end), FilterLogEvents' patterns and
// pages, and the Logs errors.
#include <regex>

#include "server/sagemaker/sagemaker_api_fixture.h"

namespace trainyard::server {
namespace {

constexpr char kLogGroup[] = "/aws/sagemaker/TrainingJobs";

class SageMakerLogsTest : public SageMakerApiTest {
 protected:
  void SetUp() override {
    SageMakerApiTest::SetUp();
    StartServer();
    ASSERT_EQ(Call("CreateTrainingJob", JobRequest("chatty-1",
                                                   "i=1; while [ $i -le 25 ]; do echo \"line $i\"; "
                                                   "i=$((i+1)); done; echo; echo last"))
                  .status,
              200);
    ASSERT_EQ(WaitForEnd("chatty-1")["TrainingJobStatus"], "Completed");
    JsonTestResponse streams = Call(
        "DescribeLogStreams", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", "chatty-1/"}});
    ASSERT_EQ(streams.status, 200) << streams.body;
    ASSERT_EQ(streams.json["logStreams"].size(), 1u);
    stream_ = streams.json["logStreams"][0]["logStreamName"];
    JsonTestResponse all =
        Call("GetLogEvents",
             {{"logGroupName", kLogGroup}, {"logStreamName", stream_}, {"startFromHead", true}});
    ASSERT_EQ(all.status, 200) << all.body;
    for (const json& event : all.json["events"]) messages_.push_back(event["message"]);
  }

  static std::vector<std::string> Messages(const JsonTestResponse& response) {
    std::vector<std::string> messages;
    for (const json& event : response.json["events"]) messages.push_back(event["message"]);
    return messages;
  }

  std::string stream_;
  std::vector<std::string> messages_;  // the whole log, as events
};

TEST_F(SageMakerLogsTest, OneStreamPerJobNamedAsSageMakerNamesIt) {
  EXPECT_TRUE(std::regex_match(stream_, std::regex("chatty-1/algo-1-[0-9]{10}"))) << stream_;
  JsonTestResponse streams = Call("DescribeLogStreams", {{"logGroupName", kLogGroup}});
  ASSERT_EQ(streams.json["logStreams"].size(), 1u) << streams.body;
  const json& stream = streams.json["logStreams"][0];
  ASSERT_TRUE(stream.contains("firstEventTimestamp")) << streams.body;
  ASSERT_TRUE(stream.contains("lastEventTimestamp")) << streams.body;
  EXPECT_EQ(stream["arn"], "arn:aws:logs:us-east-1:000000000000:log-group:" +
                               std::string(kLogGroup) + ":log-stream:" + stream_);
  EXPECT_TRUE(stream["creationTime"].is_number_integer());
  EXPECT_LE(stream["firstEventTimestamp"].get<int64_t>(),
            stream["lastEventTimestamp"].get<int64_t>());
  // The whole log: every line but the empty one (CloudWatch keeps no empty events).
  auto first = std::find(messages_.begin(), messages_.end(), "line 1");
  ASSERT_NE(first, messages_.end());
  for (int i = 1; i <= 25; ++i, ++first) EXPECT_EQ(*first, "line " + std::to_string(i));
  EXPECT_EQ(*first, "last");

  JsonTestResponse by_time = Call("DescribeLogStreams", {{"logGroupName", kLogGroup},
                                                         {"logStreamNamePrefix", "chatty"},
                                                         {"orderBy", "LastEventTime"}});
  EXPECT_EQ(by_time.Type(), "InvalidParameterException");
  EXPECT_EQ(by_time.Message(), "Cannot order by LastEventTime with a logStreamNamePrefix.");
  JsonTestResponse other_group = Call("DescribeLogStreams", {{"logGroupName", "/aws/lambda/x"}});
  EXPECT_EQ(other_group.Type(), "ResourceNotFoundException");
  EXPECT_EQ(other_group.Message(), "The specified log group does not exist.");
  EXPECT_EQ(
      Call("DescribeLogStreams", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", "zzz"}})
          .json["logStreams"]
          .size(),
      0u);
}

TEST_F(SageMakerLogsTest, ForwardPagesEndWithTheSameTokenAgain) {
  std::vector<std::string> read;
  json request = {{"logGroupName", kLogGroup},
                  {"logStreamName", stream_},
                  {"limit", 10},
                  {"startFromHead", true}};
  std::string token;
  for (int calls = 0; calls < 20; ++calls) {
    JsonTestResponse page = Call("GetLogEvents", request);
    ASSERT_EQ(page.status, 200) << page.body;
    std::vector<std::string> messages = Messages(page);
    read.insert(read.end(), messages.begin(), messages.end());
    std::string next = page.json["nextForwardToken"];
    EXPECT_EQ(next.rfind("f/", 0), 0u);
    EXPECT_EQ(std::string(page.json["nextBackwardToken"]).rfind("b/", 0), 0u);
    if (next == token) {
      EXPECT_TRUE(messages.empty());  // CloudWatch's end of stream: the token comes back
      break;
    }
    token = next;
    request["nextToken"] = token;
  }
  EXPECT_EQ(read, messages_);
}

TEST_F(SageMakerLogsTest, BackwardFromTheEndByDefault) {
  json request = {{"logGroupName", kLogGroup}, {"logStreamName", stream_}, {"limit", 5}};
  JsonTestResponse last = Call("GetLogEvents", request);
  std::vector<std::string> tail(messages_.end() - 5, messages_.end());
  EXPECT_EQ(Messages(last), tail);
  request["nextToken"] = last.json["nextBackwardToken"];
  JsonTestResponse before = Call("GetLogEvents", request);
  EXPECT_EQ(Messages(before), std::vector<std::string>(messages_.end() - 10, messages_.end() - 5));
  // Forward from that page leads back to the last one.
  request["nextToken"] = before.json["nextForwardToken"];
  EXPECT_EQ(Messages(Call("GetLogEvents", request)), tail);

  json future = {{"logGroupName", kLogGroup},
                 {"logStreamName", stream_},
                 {"startTime", int64_t{4'000'000'000'000}}};
  EXPECT_EQ(Call("GetLogEvents", future).json["events"].size(), 0u);
  json past = {{"logGroupName", kLogGroup}, {"logStreamName", stream_}, {"endTime", 1}};
  EXPECT_EQ(Call("GetLogEvents", past).json["events"].size(), 0u);
}

TEST_F(SageMakerLogsTest, LogsErrors) {
  JsonTestResponse stream =
      Call("GetLogEvents", {{"logGroupName", kLogGroup}, {"logStreamName", "nope/algo-1-1"}});
  EXPECT_EQ(stream.status, 400);
  EXPECT_EQ(stream.Type(), "ResourceNotFoundException");
  EXPECT_EQ(stream.Message(), "The specified log stream does not exist.");
  JsonTestResponse group =
      Call("GetLogEvents", {{"logGroupName", "/aws/other"}, {"logStreamName", stream_}});
  EXPECT_EQ(group.Message(), "The specified log group does not exist.");
  JsonTestResponse token =
      Call("GetLogEvents",
           {{"logGroupName", kLogGroup}, {"logStreamName", stream_}, {"nextToken", "f/12/s"}});
  EXPECT_EQ(token.Type(), "InvalidParameterException");
  JsonTestResponse missing = Call("GetLogEvents", {{"logGroupName", kLogGroup}});
  EXPECT_EQ(missing.Type(), "ValidationException");
}

TEST_F(SageMakerLogsTest, FilterByTermsPhrasesAndPages) {
  json request = {{"logGroupName", kLogGroup}, {"filterPattern", "\"line 2\""}};
  JsonTestResponse phrase = Call("FilterLogEvents", request);
  ASSERT_EQ(phrase.status, 200) << phrase.body;
  EXPECT_EQ(Messages(phrase), (std::vector<std::string>{"line 2", "line 20", "line 21", "line 22",
                                                        "line 23", "line 24", "line 25"}));
  EXPECT_EQ(phrase.json["events"][0]["logStreamName"], stream_);
  EXPECT_FALSE(phrase.json["events"][0]["eventId"].get<std::string>().empty());
  EXPECT_FALSE(phrase.json.contains("nextToken"));

  request["limit"] = 3;
  request["logStreamNames"] = {stream_};
  std::vector<std::string> paged;
  for (int calls = 0; calls < 5; ++calls) {
    JsonTestResponse page = Call("FilterLogEvents", request);
    std::vector<std::string> messages = Messages(page);
    paged.insert(paged.end(), messages.begin(), messages.end());
    if (!page.json.contains("nextToken")) break;
    request["nextToken"] = page.json["nextToken"];
  }
  EXPECT_EQ(paged, Messages(phrase));

  JsonTestResponse either = Call("FilterLogEvents", {{"logGroupName", kLogGroup},
                                                     {"logStreamNamePrefix", "chatty-1"},
                                                     {"filterPattern", "?last ?\"line 7\""}});
  EXPECT_EQ(Messages(either), (std::vector<std::string>{"line 7", "last"}));
  JsonTestResponse excluded =
      Call("FilterLogEvents",
           {{"logGroupName", kLogGroup}, {"filterPattern", "line -\"line 1\" -\"line 2\""}});
  EXPECT_EQ(Messages(excluded), (std::vector<std::string>{"line 3", "line 4", "line 5", "line 6",
                                                          "line 7", "line 8", "line 9"}));
  JsonTestResponse both = Call("FilterLogEvents", {{"logGroupName", kLogGroup},
                                                   {"logStreamNames", {stream_}},
                                                   {"logStreamNamePrefix", "chatty"}});
  EXPECT_EQ(both.Type(), "InvalidParameterException");
  JsonTestResponse other =
      Call("FilterLogEvents", {{"logGroupName", kLogGroup}, {"logStreamNamePrefix", "other"}});
  EXPECT_EQ(other.json["events"].size(), 0u);
}

}  // namespace
}  // namespace trainyard::server
