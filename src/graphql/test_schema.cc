#include "graphql/test_schema.h"

namespace trainyard::graphql::testing {

using nlohmann::json;

Library MakeLibrary() {
  Library library;
  library.schema = std::make_unique<Schema>();
  library.added = std::make_shared<std::vector<std::string>>();
  Schema& schema = *library.schema;
  static const json kBooks = json::array({
      {{"id", "b1"},
       {"title", "Dune"},
       {"genre", "SCIENCE_FICTION"},
       {"pages", 412},
       {"tags", {"sand", "spice"}},
       {"author", {{"name", "Herbert"}}}},
      {{"id", "b2"},
       {"title", "Emma"},
       {"genre", "NOVEL"},
       {"pages", 474},
       {"tags", nullptr},
       {"author", {{"name", "Austen"}}}},
      {{"id", "b3"},
       {"title", "Broken"},
       {"genre", "UNKNOWN"},
       {"pages", 3000000000LL},
       {"tags", json::array()},
       {"author", nullptr}},
  });
  TypeDefinition genre;
  genre.kind = TypeKind::kEnum;
  genre.name = "Genre";
  genre.enum_values = {{"NOVEL", "", {}},
                       {"SCIENCE_FICTION", "Space and time.", {}},
                       {"POETRY", "", std::string("no poems here")}};
  schema.Add(std::move(genre));
  TypeDefinition json_scalar;
  json_scalar.kind = TypeKind::kScalar;
  json_scalar.name = "JSON";
  json_scalar.description = "Any JSON value.";
  schema.Add(std::move(json_scalar));
  TypeDefinition filter;
  filter.kind = TypeKind::kInputObject;
  filter.name = "BookFilter";
  filter.input_fields = {{"genre", "Genre", "", std::nullopt, {}, {}},
                         {"minPages", "Int", "", "0", {}, {}}};
  schema.Add(std::move(filter));

  TypeDefinition author;
  author.name = "Author";
  author.fields = {{"name", "String!", "", {}, nullptr, "", std::nullopt, {}}};
  schema.Add(std::move(author));

  TypeDefinition book;
  book.name = "Book";
  book.description = "A book on the shelf.";
  FieldDefinition title{"title", "String!", "Its title.", {}, nullptr, "", std::nullopt, {}};
  FieldDefinition shout{"shout", "String", "", {}, nullptr, "", std::string("too loud"), {}};
  shout.resolve = [](const FieldRequest& r) -> Result<json> {
    return json(r.parent["title"].get<std::string>() + "!");
  };
  book.fields = {{"id", "ID!", "", {}, nullptr, "", std::nullopt, {}},
                 title,
                 {"genre", "Genre", "", {}, nullptr, "", std::nullopt, {}},
                 {"pageCount", "Int", "", {}, nullptr, "pages", std::nullopt, {}},
                 {"tags", "[String!]", "", {}, nullptr, "", std::nullopt, {}},
                 {"author", "Author!", "", {}, nullptr, "", std::nullopt, {}},
                 shout};
  schema.Add(std::move(book));

  TypeDefinition query;
  query.name = "Query";
  FieldDefinition books{"books", "[Book!]!", "Every book.", {}, nullptr, "", std::nullopt, {}};
  books.arguments = {{"first", "Int", "How many.", "2", {}, {}},
                     {"filter", "BookFilter", "", std::nullopt, {}, {}}};
  books.resolve = [](const FieldRequest& r) -> Result<json> {
    json list = json::array();
    json filter = r.arguments.value("filter", json());
    for (const json& each : kBooks) {
      if (filter.is_object() && filter.contains("genre") && filter["genre"] != each["genre"]) {
        continue;
      }
      if (each["id"] == "b3") continue;
      if (static_cast<int64_t>(list.size()) < r.arguments["first"].get<int64_t>()) {
        list.push_back(each);
      }
    }
    return list;
  };
  FieldDefinition book_field{"book", "Book", "", {}, nullptr, "", std::nullopt, {}};
  book_field.arguments = {{"id", "ID!", "", std::nullopt, {}, {}}};
  book_field.resolve = [](const FieldRequest& r) -> Result<json> {
    for (const json& each : kBooks) {
      if (each["id"] == r.arguments["id"]) return each;
    }
    return NotFound("book '" + r.arguments["id"].get<std::string>() + "' not found");
  };
  FieldDefinition echo{"echo", "JSON", "", {}, nullptr, "", std::nullopt, {}};
  echo.arguments = {{"value", "JSON", "", std::nullopt, {}, {}}};
  echo.resolve = [](const FieldRequest& r) -> Result<json> {
    return r.arguments.value("value", json());
  };
  FieldDefinition broken{"broken", "[Book!]", "", {}, nullptr, "", std::nullopt, {}};
  broken.resolve = [](const FieldRequest&) -> Result<json> { return kBooks; };
  query.fields = {books, book_field, echo, broken};
  schema.Add(std::move(query));

  TypeDefinition mutation;
  mutation.name = "Mutation";
  FieldDefinition add{"addBook", "Book!", "", {}, nullptr, "", std::nullopt, {}};
  add.arguments = {{"title", "String!", "", std::nullopt, {}, {}}};
  add.resolve = [added = library.added](const FieldRequest& r) -> Result<json> {
    std::string title = r.arguments["title"];
    if (title.empty()) return InvalidArgument("title must not be empty");
    added->push_back(title);
    return json{{"id", "new-" + std::to_string(added->size())},
                {"title", title},
                {"author", {{"name", "anon"}}}};
  };
  mutation.fields = {add};
  schema.Add(std::move(mutation));
  // A subscription whose events are books: the event is the root value, the field returns it
  // when it is on the asked shelf.
  TypeDefinition subscription;
  subscription.name = "Subscription";
  FieldDefinition book_added{"bookAdded", "Book", "", {}, nullptr, "", std::nullopt, {}};
  book_added.arguments = {{"genre", "Genre", "", std::nullopt, {}, {}}};
  book_added.resolve = [](const FieldRequest& r) -> Result<json> { return r.parent; };
  FieldDefinition ticks{"ticks", "Int", "", {}, nullptr, "", std::nullopt, {}};
  subscription.fields = {book_added, ticks};
  schema.Add(std::move(subscription));
  schema.SetRootTypes("Query", "Mutation");
  schema.SetSubscriptionType("Subscription");
  Status finished = schema.Finish();
  if (!finished.ok()) throw std::runtime_error(finished.ToString());
  return library;
}

}  // namespace trainyard::graphql::testing
