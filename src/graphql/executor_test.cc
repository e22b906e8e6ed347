#include "graphql/executor.h"

#include <gtest/gtest.h>

#include "graphql/test_schema.h"

namespace trainyard::graphql {
namespace {

using nlohmann::json;

class GraphqlExecutor : public ::testing::Test {
 protected:
  json Run(const std::string& query, json variables = nullptr, std::string operation = "") {
    Request request{query, operation, std::move(variables), false};
    return ToJson(Execute(*library_.schema, request));
  }
  testing::Library library_ = testing::MakeLibrary();
};

TEST_F(GraphqlExecutor, ResolvesFieldsAliasesAndArguments) {
  json result = Run(R"({ books { id title pageCount } first: books(first: 1) { t: title } })");
  EXPECT_FALSE(result.contains("errors")) << result.dump();
  EXPECT_EQ(result["data"]["books"], json::parse(R"([{"id":"b1","title":"Dune","pageCount":412},
                            {"id":"b2","title":"Emma","pageCount":474}])"));
  EXPECT_EQ(result["data"]["first"], json::parse(R"([{"t":"Dune"}])"));
  // Response keys come in the order of the document.
  EXPECT_EQ(result["data"].begin().key(), "books");
}

TEST_F(GraphqlExecutor, VariablesDefaultsAndInputObjects) {
  json result = Run(R"(query Q($n: Int = 1, $filter: BookFilter) {
                         books(first: $n, filter: $filter) { id } })",
                    {{"filter", {{"genre", "NOVEL"}}}});
  EXPECT_EQ(result["data"]["books"], json::parse(R"([{"id":"b2"}])")) << result.dump();
  result = Run(R"(query { books(filter: {genre: SCIENCE_FICTION}) { genre } })");
  EXPECT_EQ(result["data"]["books"], json::parse(R"([{"genre":"SCIENCE_FICTION"}])"));
  result = Run(R"(query Q($v: JSON) { echo(value: {a: [$v, 1.5, ENUMISH, "s"]}) })",
               {{"v", {{"deep", true}}}});
  EXPECT_EQ(result["data"]["echo"], json::parse(R"({"a":[{"deep":true},1.5,"ENUMISH","s"]})"));
}

TEST_F(GraphqlExecutor, FragmentsInlineFragmentsAndDirectives) {
  json result = Run(R"(query($no: Boolean!) {
      book(id: "b1") {
        ...Names
        ... on Book { genre }
        tags @skip(if: $no)
        pageCount @include(if: $no)
        ... @include(if: false) { id }
        __typename
      }
    }
    fragment Names on Book { title author { name } })",
                    {{"no", true}});
  EXPECT_FALSE(result.contains("errors")) << result.dump();
  EXPECT_EQ(result["data"]["book"],
            json::parse(R"({"title":"Dune","author":{"name":"Herbert"},"genre":"SCIENCE_FICTION",
                            "pageCount":412,"__typename":"Book"})"));
}

TEST_F(GraphqlExecutor, ResolverErrorsCarryPathLocationAndCode) {
  json result = Run("{\n  ok: book(id: \"b2\") { title }\n  book(id: \"nope\") { title }\n}");
  EXPECT_EQ(result["data"]["ok"]["title"], "Emma");
  EXPECT_TRUE(result["data"]["book"].is_null());
  ASSERT_EQ(result["errors"].size(), 1u);
  EXPECT_EQ(result["errors"][0],
            json::parse(R"({"message":"book 'nope' not found","locations":[{"line":3,"column":3}],
                            "path":["book"],"extensions":{"code":"NotFound"}})"));
}

TEST_F(GraphqlExecutor, NullsGoUpToTheNearestNullableField) {
  // The third book's pages do not fit an Int and its author is null though non-null: the item
  // is non-null, so the whole (nullable) list becomes null; one error per fault.
  json result = Run(R"({ broken { pageCount author { name } } })");
  EXPECT_TRUE(result["data"]["broken"].is_null()) << result.dump();
  ASSERT_EQ(result["errors"].size(), 2u) << result.dump();
  EXPECT_EQ(result["errors"][0]["message"],
            "Int cannot represent non 32-bit signed integer value: 3000000000");
  EXPECT_EQ(result["errors"][0]["path"], json::parse(R"(["broken",2,"pageCount"])"));
  EXPECT_EQ(result["errors"][1]["message"],
            "Cannot return null for non-nullable field Book.author.");
  EXPECT_EQ(result["errors"][1]["path"], json::parse(R"(["broken",2,"author"])"));
}

TEST_F(GraphqlExecutor, MutationsRunInOrderAndGetCannotRunThem) {
  json result = Run(R"(mutation { a: addBook(title: "one") { id } b: addBook(title: "two") { id }
                                  c: addBook(title: "") { id } })");
  EXPECT_EQ(*library_.added, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(result["data"], nullptr) << result.dump();  // c is non-null: data is null
  EXPECT_EQ(result["errors"][0]["extensions"]["code"], "InvalidArgument");
  Request get{"mutation { addBook(title: \"x\") { id } }", "", nullptr, true};
  Response refused = Execute(*library_.schema, get);
  EXPECT_TRUE(refused.mutation_refused);
  EXPECT_FALSE(refused.data);
  EXPECT_EQ(library_.added->size(), 2u);
}

TEST_F(GraphqlExecutor, StopsAnOperationThatResolvesTooManyFields) {
  std::string query = "{ a: books { id title } b: books { id title } }";  // 2 + 2 * 2 * 2 fields
  ExecutionOptions options;
  options.max_fields = 10;
  json fits = ToJson(Execute(*library_.schema, Request{query, "", nullptr, false}, options));
  EXPECT_FALSE(fits.contains("errors")) << fits.dump();
  options.max_fields = 9;
  json stopped = ToJson(Execute(*library_.schema, Request{query, "", nullptr, false}, options));
  EXPECT_TRUE(stopped["data"].is_null()) << stopped.dump();
  ASSERT_EQ(stopped["errors"].size(), 1u);
  EXPECT_EQ(stopped["errors"][0]["extensions"]["code"], "ResourceExhausted");
  EXPECT_EQ(stopped["errors"][0]["message"],
            "the operation resolves more than 9 fields: ask for fewer (smaller pages, less "
            "nesting)");
}

TEST_F(GraphqlExecutor, ChoosesTheOperationByName) {
  std::string document = "query A { books { id } } query B { book(id: \"b2\") { id } }";
  EXPECT_EQ(Run(document, nullptr, "B")["data"]["book"]["id"], "b2");
  EXPECT_EQ(Run(document)["errors"][0]["message"],
            "Must provide operation name if query contains multiple operations.");
  EXPECT_EQ(Run(document, nullptr, "C")["errors"][0]["message"], "Unknown operation named \"C\".");
}

TEST_F(GraphqlExecutor, BadVariablesStopTheRequestBeforeExecution) {
  std::string query = "query($id: ID!, $n: Int) { book(id: $id) { id } books(first: $n) { id } }";
  json result = Run(query, {{"n", 1}});
  EXPECT_FALSE(result.contains("data"));
  EXPECT_EQ(result["errors"][0]["message"],
            "Variable \"$id\" of required type \"ID!\" was not provided.");
  EXPECT_EQ(result["errors"][0]["extensions"]["code"], "InvalidArgument");
  EXPECT_EQ(result["errors"][0]["locations"][0], json::parse(R"({"line":1,"column":7})"));
  result = Run(query, {{"id", "b1"}, {"n", "many"}});
  EXPECT_EQ(result["errors"][0]["message"],
            "Variable \"$n\" got invalid value \"many\"; Int cannot represent non-integer value: "
            "\"many\"");
  result = Run("query($f: BookFilter) { books(filter: $f) { id } }", {{"f", {{"color", "red"}}}});
  EXPECT_EQ(
      result["errors"][0]["message"],
      "Variable \"$f\" got invalid value { color: \"red\" }; Field \"color\" is not defined by "
      "type \"BookFilter\".");
}

TEST_F(GraphqlExecutor, SyntaxErrorsAreRequestErrors) {
  json result = Run("{ books { id }");
  EXPECT_FALSE(result.contains("data"));
  EXPECT_EQ(result["errors"][0],
            json::parse(R"({"message":"Syntax Error: Expected Name, found <EOF>.",
                            "locations":[{"line":1,"column":15}],
                            "extensions":{"code":"InvalidArgument"}})"));
}

TEST_F(GraphqlExecutor, IntrospectsTheSchema) {
  json result = Run(R"({
    __schema { queryType { name } mutationType { name } subscriptionType { name }
               directives { name locations args { name defaultValue type { kind ofType { name } } } } }
    book: __type(name: "Book") { kind name description
      fields(includeDeprecated: true) { name isDeprecated deprecationReason
        type { kind name ofType { kind name } } } }
    genre: __type(name: "Genre") { enumValues { name description } }
    filter: __type(name: "BookFilter") { inputFields { name defaultValue type { name } } }
    missing: __type(name: "Nope") { name }
  })");
  ASSERT_FALSE(result.contains("errors")) << result.dump();
  const json& data = result["data"];
  EXPECT_EQ(data["__schema"]["queryType"]["name"], "Query");
  EXPECT_EQ(data["__schema"]["mutationType"]["name"], "Mutation");
  EXPECT_EQ(data["__schema"]["subscriptionType"]["name"], "Subscription");
  EXPECT_EQ(data["__schema"]["directives"][0]["name"], "include");
  EXPECT_EQ(data["__schema"]["directives"][0]["args"][0]["type"]["kind"], "NON_NULL");
  EXPECT_EQ(data["__schema"]["directives"][0]["args"][0]["type"]["ofType"]["name"], "Boolean");
  EXPECT_EQ(data["book"]["kind"], "OBJECT");
  EXPECT_EQ(data["book"]["description"], "A book on the shelf.");
  const json& fields = data["book"]["fields"];
  EXPECT_EQ(fields[1]["name"], "title");
  EXPECT_EQ(fields[1]["type"], json::parse(R"({"kind":"NON_NULL","name":null,
                                               "ofType":{"kind":"SCALAR","name":"String"}})"));
  EXPECT_EQ(fields.back()["name"], "shout");
  EXPECT_EQ(fields.back()["deprecationReason"], "too loud");
  // Deprecated values are left out unless asked for.
  EXPECT_EQ(data["genre"]["enumValues"].size(), 2u);
  EXPECT_EQ(data["genre"]["enumValues"][1]["description"], "Space and time.");
  EXPECT_EQ(data["filter"]["inputFields"][1]["defaultValue"], "0");
  EXPECT_TRUE(data["missing"].is_null());
}

TEST_F(GraphqlExecutor, PrintsTheSchemaDefinitionLanguage) {
  std::string printed = library_.schema->PrintDefinitionLanguage();
  EXPECT_NE(printed.find("enum Genre {\n  NOVEL\n\n  \"\"\"Space and time.\"\"\"\n  "
                         "SCIENCE_FICTION\n  POETRY @deprecated(reason: \"no poems here\")\n}\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("\"\"\"Any JSON value.\"\"\"\nscalar JSON\n"), std::string::npos);
  EXPECT_NE(printed.find("input BookFilter {\n  genre: Genre\n  minPages: Int = 0\n}\n"),
            std::string::npos);
  EXPECT_NE(printed.find("  books(\n    \"\"\"How many.\"\"\"\n    first: Int = 2\n    filter: "
                         "BookFilter\n  ): [Book!]!\n"),
            std::string::npos)
      << printed;
  EXPECT_EQ(printed.find("__Type"), std::string::npos);
  EXPECT_EQ(printed.find("scalar String"), std::string::npos);
}

TEST(GraphqlSchema, FinishRefusesUnknownTypesAndBadDefaults) {
  Schema schema;
  TypeDefinition query;
  query.name = "Query";
  query.fields = {{"a", "Missing", "", {}, nullptr, "", std::nullopt, {}}};
  schema.Add(query);
  schema.SetRootTypes("Query", "");
  EXPECT_EQ(schema.Finish().message(), "Query.a: unknown type \"Missing\"");
  Schema other;
  query.fields = {
      {"a", "Int", "", {{"n", "Int", "", "\"x\"", {}, {}}}, nullptr, "", std::nullopt, {}}};
  other.Add(query);
  other.SetRootTypes("Query", "");
  EXPECT_EQ(other.Finish().message(),
            "Query.a(n): the default \"x\": Int cannot represent non-integer value: \"x\"");
}

TEST_F(GraphqlExecutor, SubscriptionIsPreparedOnceAndRunPerEvent) {
  Request request{R"(subscription S($g: Genre) { added: bookAdded(genre: $g) { title } })",
                  "",
                  {{"g", "NOVEL"}},
                  false};
  PreparedOperation prepared = Prepare(*library_.schema, request);
  ASSERT_TRUE(prepared.ok()) << ToJson(prepared.errors).dump();
  EXPECT_TRUE(prepared.is_subscription());
  EXPECT_EQ(prepared.subscription_field, "bookAdded");
  EXPECT_EQ(prepared.subscription_arguments, json::parse(R"({"genre":"NOVEL"})"));
  for (std::string title : {"Emma", "Persuasion"}) {
    json event = {{"id", "b"}, {"title", title}};
    Response response = ExecutePrepared(*library_.schema, prepared, event);
    EXPECT_EQ(ToJson(response), json({{"data", {{"added", {{"title", title}}}}}}));
  }
  // Over HTTP there is no single answer.
  json answer = Run(request.query, request.variables);
  EXPECT_FALSE(answer.contains("data"));
  EXPECT_NE(answer["errors"][0]["message"].get<std::string>().find("WebSocket"), std::string::npos);
}

TEST_F(GraphqlExecutor, SubscriptionSelectsOneRootField) {
  json answer = Run(R"(subscription { bookAdded { title } ticks })");
  ASSERT_EQ(answer["errors"].size(), 1u) << answer.dump();
  EXPECT_EQ(answer["errors"][0]["message"],
            "Anonymous Subscription must select only one top level field.");
  answer =
      Run(R"(subscription Two { ...F } fragment F on Subscription { ticks bookAdded { id } })");
  EXPECT_EQ(answer["errors"][0]["message"],
            "Subscription \"Two\" must select only one top level field.");
  answer = Run(R"(subscription { __typename })");
  EXPECT_EQ(answer["errors"][0]["message"],
            "Anonymous Subscription must not select an introspection top level field.");
  PreparedOperation bad = Prepare(
      *library_.schema, {R"(subscription { bookAdded(genre: POEM) { id } })", "", nullptr, false});
  EXPECT_FALSE(bad.ok());
  json introspection = Run(R"({ __schema { subscriptionType { name } } })");
  EXPECT_EQ(introspection["data"]["__schema"]["subscriptionType"]["name"], "Subscription");
}

}  // namespace
}  // namespace trainyard::graphql
