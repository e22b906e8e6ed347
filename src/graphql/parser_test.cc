#include "graphql/parser.h"

#include <gtest/gtest.h>

namespace trainyard::graphql {
namespace {

Document MustParse(std::string_view source) {
  ParseOutcome outcome = Parse(source);
  EXPECT_FALSE(outcome.error) << outcome.error->message;
  return outcome.document ? *outcome.document : Document{};
}

Error MustFail(std::string_view source) {
  ParseOutcome outcome = Parse(source);
  EXPECT_TRUE(outcome.error) << "parsed: " << source;
  return outcome.error ? *outcome.error : Error{};
}

TEST(GraphqlParser, ReadsOperationsVariablesDirectivesAndAliases) {
  Document document = MustParse(R"(
    # a comment
    query Jobs($sweep: ID!, $first: Int = 10, $statuses: [JobStatus!] @deprecated) @live {
      recent: jobs(sweep: $sweep, first: $first) {
        edges { node { name status @include(if: true) } }
      }
    }
    mutation { stopJob(name: "j-1") { name } }
  )");
  ASSERT_EQ(document.operations.size(), 2u);
  const OperationDefinition& query = document.operations[0];
  EXPECT_EQ(query.type, OperationDefinition::Type::kQuery);
  EXPECT_EQ(query.name, "Jobs");
  EXPECT_EQ(query.location.line, 3);
  EXPECT_EQ(query.location.column, 5);
  ASSERT_EQ(query.variables.size(), 3u);
  EXPECT_EQ(ToString(query.variables[0].type), "ID!");
  EXPECT_EQ(query.variables[1].default_value->text, "10");
  EXPECT_EQ(ToString(query.variables[2].type), "[JobStatus!]");
  EXPECT_EQ(query.variables[2].directives[0].name, "deprecated");
  EXPECT_EQ(query.directives[0].name, "live");
  const Selection& jobs = query.selections[0];
  EXPECT_EQ(jobs.alias, "recent");
  EXPECT_EQ(jobs.name, "jobs");
  EXPECT_EQ(jobs.response_name(), "recent");
  ASSERT_EQ(jobs.arguments.size(), 2u);
  EXPECT_EQ(jobs.arguments[0].value.kind, Value::Kind::kVariable);
  EXPECT_EQ(jobs.arguments[0].value.text, "sweep");
  const Selection& status = jobs.selections[0].selections[0].selections[1];
  EXPECT_EQ(status.name, "status");
  EXPECT_EQ(status.directives[0].name, "include");
  EXPECT_TRUE(status.directives[0].arguments[0].value.boolean);
  EXPECT_EQ(document.operations[1].type, OperationDefinition::Type::kMutation);
  EXPECT_EQ(document.operations[1].selections[0].arguments[0].value.text, "j-1");
}

TEST(GraphqlParser, ReadsFragmentsAndInlineFragments) {
  Document document = MustParse(R"({
    job(name: "a") { ...JobFields ... on Job { status } ... @skip(if: false) { index } }
  }
  fragment JobFields on Job { name })");
  ASSERT_EQ(document.fragments.size(), 1u);
  EXPECT_EQ(document.fragments[0].name, "JobFields");
  EXPECT_EQ(document.fragments[0].type_condition, "Job");
  const auto& selections = document.operations[0].selections[0].selections;
  ASSERT_EQ(selections.size(), 3u);
  EXPECT_EQ(selections[0].kind, Selection::Kind::kFragmentSpread);
  EXPECT_EQ(selections[0].name, "JobFields");
  EXPECT_EQ(selections[1].kind, Selection::Kind::kInlineFragment);
  EXPECT_EQ(selections[1].type_condition, "Job");
  EXPECT_EQ(selections[2].type_condition, "");
  EXPECT_EQ(selections[2].directives[0].name, "skip");
}

TEST(GraphqlParser, ReadsEveryKindOfValue) {
  Document document = MustParse(
      R"({ f(a: -12, b: 1.5e3, c: "t\"\u00e9\u{1F600}\uD83D\uDE00", d: null, e: ENUM,
           f: [1, [2]], g: {x: {y: false}}, h: """
             block
               indented
           """) })");
  const auto& arguments = document.operations[0].selections[0].arguments;
  EXPECT_EQ(arguments[0].value.kind, Value::Kind::kInt);
  EXPECT_EQ(arguments[0].value.text, "-12");
  EXPECT_EQ(arguments[1].value.kind, Value::Kind::kFloat);
  EXPECT_EQ(arguments[2].value.text, "t\"\xC3\xA9\xF0\x9F\x98\x80\xF0\x9F\x98\x80");
  EXPECT_EQ(arguments[3].value.kind, Value::Kind::kNull);
  EXPECT_EQ(arguments[4].value.kind, Value::Kind::kEnum);
  EXPECT_EQ(arguments[5].value.list[1].list[0].text, "2");
  EXPECT_EQ(arguments[6].value.fields[0].value.fields[0].name, "y");
  EXPECT_EQ(arguments[7].value.text, "block\n  indented");
}

TEST(GraphqlParser, SyntaxErrorsSayWhatAndWhere) {
  Error error = MustFail("{ job(name: \"a\") {");
  EXPECT_EQ(error.message, "Syntax Error: Expected Name, found <EOF>.");
  ASSERT_EQ(error.locations.size(), 1u);
  EXPECT_EQ(error.locations[0].line, 1);
  EXPECT_EQ(error.locations[0].column, 19);

  error = MustFail("query {\n  job(name: 01)\n}");
  EXPECT_EQ(error.message, "Syntax Error: Invalid number, unexpected digit after 0: \"1\".");
  EXPECT_EQ(error.locations[0].line, 2);
  EXPECT_EQ(error.locations[0].column, 14);  // the digit after 0

  EXPECT_EQ(MustFail("{ a(x: \"open) }").message, "Syntax Error: Unterminated string.");
  EXPECT_EQ(MustFail("{ a(x: \"\\q\") }").message,
            "Syntax Error: Invalid character escape sequence: \"\\q\".");
  EXPECT_EQ(MustFail("{ a(x: \"\\u12G4\") }").message,
            "Syntax Error: Invalid Unicode escape sequence: \"\\u12G4\".");
  EXPECT_EQ(MustFail("{ a % }").message, "Syntax Error: Unexpected character: \"%\".");
  EXPECT_EQ(MustFail("type Query { a: Int }").message, "Syntax Error: Unexpected Name \"type\".");
  EXPECT_EQ(MustFail("").message, "Syntax Error: Unexpected <EOF>.");
  EXPECT_EQ(MustFail("{}").message, "Syntax Error: Expected Name, found \"}\".");
  EXPECT_EQ(MustFail("query($a: Int = $b) { a }").message,
            "Syntax Error: Unexpected variable \"$b\" in constant value.");
  EXPECT_EQ(MustFail("fragment on on Job { a }").message, "Syntax Error: Unexpected Name \"on\".");
  EXPECT_EQ(MustFail("{ a(x: 1.) }").message,
            "Syntax Error: Invalid number, expected digit but got: \")\".");
  EXPECT_EQ(MustFail("{ a(x: 12abc) }").message,
            "Syntax Error: Invalid number, expected digit but got: \"a\".");
  EXPECT_EQ(MustFail(std::string("{ a(x: \"\x01\") }")).message,
            "Syntax Error: Invalid character within String: U+0001.");
}

TEST(GraphqlParser, ColumnsCountCharactersNotBytes) {
  Error error = MustFail("{ a(x: \"\xC3\xA9\xC3\xA9\") % }");
  EXPECT_EQ(error.locations[0].column, 14);
}

TEST(GraphqlParser, RefusesDeepNestingInsteadOfExhaustingTheStack) {
  std::string deep(10000, '[');
  Error error = MustFail("{ a(x: " + deep + ") }");
  EXPECT_NE(error.message.find("nests deeper than 64 levels"), std::string::npos);
  std::string selections;
  for (int i = 0; i < 100; ++i) selections += "{ a ";
  EXPECT_NE(MustFail(selections).message.find("nests deeper"), std::string::npos);
}

TEST(GraphqlParser, ParsesTypesForTheSchema) {
  EXPECT_EQ(ToString(*ParseType("[String!]!")), "[String!]!");
  EXPECT_FALSE(ParseType("[String"));
  EXPECT_FALSE(ParseType("String extra"));
}

}  // namespace
}  // namespace trainyard::graphql
