#include "graphql/parser.h"

#include "graphql/lexer.h"

namespace trainyard::graphql {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view source) : lexer_(source) { token_ = lexer_.Next(); }

  Document ParseDocument() {
    Document document;
    do {
      if (Peek("{")) {
        OperationDefinition operation;
        operation.location = token_.location;
        operation.selections = ParseSelectionSet();
        document.operations.push_back(std::move(operation));
      } else if (token_.kind == Token::Kind::kName &&
                 (token_.text == "query" || token_.text == "mutation" ||
                  token_.text == "subscription")) {
        document.operations.push_back(ParseOperation());
      } else if (token_.kind == Token::Kind::kName && token_.text == "fragment") {
        document.fragments.push_back(ParseFragmentDefinition());
      } else {
        Unexpected();
      }
    } while (token_.kind != Token::Kind::kEnd);
    return document;
  }

  TypeRef ParseTypeReference() {
    Location start = token_.location;
    TypeRef type;
    if (Skip("[")) {
      Nest nest(this);
      type.kind = TypeRef::Kind::kList;
      type.of_type = std::make_shared<TypeRef>(ParseTypeReference());
      Expect("]");
    } else {
      type.name = ExpectName();
    }
    type.location = start;
    if (Skip("!")) {
      TypeRef non_null;
      non_null.kind = TypeRef::Kind::kNonNull;
      non_null.of_type = std::make_shared<TypeRef>(std::move(type));
      non_null.location = start;
      return non_null;
    }
    return type;
  }

  bool AtEnd() const { return token_.kind == Token::Kind::kEnd; }

 private:
  // Counts nesting while alive; past kMaxNestingDepth the document is refused.
  struct Nest {
    explicit Nest(Parser* parser) : parser(parser) {
      if (++parser->depth_ > kMaxNestingDepth) {
        throw SyntaxError("Syntax Error: the document nests deeper than " +
                              std::to_string(kMaxNestingDepth) + " levels.",
                          parser->token_.location);
      }
    }
    ~Nest() { --parser->depth_; }
    Parser* parser;
  };

  bool Peek(std::string_view punctuator) const {
    return token_.kind == Token::Kind::kPunctuator && token_.text == punctuator;
  }
  bool PeekName(std::string_view name) const {
    return token_.kind == Token::Kind::kName && token_.text == name;
  }
  void Advance() { token_ = lexer_.Next(); }
  bool Skip(std::string_view punctuator) {
    if (!Peek(punctuator)) return false;
    Advance();
    return true;
  }
  void Expect(std::string_view punctuator) {
    if (!Skip(punctuator)) {
      throw SyntaxError("Syntax Error: Expected \"" + std::string(punctuator) + "\", found " +
                            Describe(token_) + ".",
                        token_.location);
    }
  }
  std::string ExpectName() {
    if (token_.kind != Token::Kind::kName) {
      throw SyntaxError("Syntax Error: Expected Name, found " + Describe(token_) + ".",
                        token_.location);
    }
    std::string name = token_.text;
    Advance();
    return name;
  }
  void ExpectKeyword(std::string_view keyword) {
    if (!PeekName(keyword)) {
      throw SyntaxError("Syntax Error: Expected \"" + std::string(keyword) + "\", found " +
                            Describe(token_) + ".",
                        token_.location);
    }
    Advance();
  }
  [[noreturn]] void Unexpected() {
    throw SyntaxError("Syntax Error: Unexpected " + Describe(token_) + ".", token_.location);
  }

  OperationDefinition ParseOperation() {
    OperationDefinition operation;
    operation.location = token_.location;
    operation.type = token_.text == "query"      ? OperationDefinition::Type::kQuery
                     : token_.text == "mutation" ? OperationDefinition::Type::kMutation
                                                 : OperationDefinition::Type::kSubscription;
    Advance();
    if (token_.kind == Token::Kind::kName) operation.name = ExpectName();
    if (Skip("(")) {
      do {
        operation.variables.push_back(ParseVariableDefinition());
      } while (!Skip(")"));
    }
    operation.directives = ParseDirectives(/*constant=*/false);
    operation.selections = ParseSelectionSet();
    return operation;
  }

  VariableDefinition ParseVariableDefinition() {
    VariableDefinition variable;
    variable.location = token_.location;
    Expect("$");
    variable.name = ExpectName();
    Expect(":");
    variable.type = ParseTypeReference();
    if (Skip("=")) variable.default_value = ParseValue(/*constant=*/true);
    variable.directives = ParseDirectives(/*constant=*/true);
    return variable;
  }

  FragmentDefinition ParseFragmentDefinition() {
    FragmentDefinition fragment;
    fragment.location = token_.location;
    ExpectKeyword("fragment");
    if (PeekName("on")) Unexpected();
    fragment.name = ExpectName();
    ExpectKeyword("on");
    fragment.type_condition_location = token_.location;
    fragment.type_condition = ExpectName();
    fragment.directives = ParseDirectives(/*constant=*/false);
    fragment.selections = ParseSelectionSet();
    return fragment;
  }

  std::vector<Selection> ParseSelectionSet() {
    Nest nest(this);
    Expect("{");
    std::vector<Selection> selections;
    do {
      selections.push_back(ParseSelection());
    } while (!Skip("}"));
    return selections;
  }

  Selection ParseSelection() {
    Selection selection;
    selection.location = token_.location;
    if (Skip("...")) {
      if (token_.kind == Token::Kind::kName && token_.text != "on") {
        selection.kind = Selection::Kind::kFragmentSpread;
        selection.name_location = token_.location;
        selection.name = ExpectName();
        selection.directives = ParseDirectives(/*constant=*/false);
        return selection;
      }
      selection.kind = Selection::Kind::kInlineFragment;
      if (PeekName("on")) {
        Advance();
        selection.name_location = token_.location;
        selection.type_condition = ExpectName();
      }
      selection.directives = ParseDirectives(/*constant=*/false);
      selection.has_selection_set = true;
      selection.selections = ParseSelectionSet();
      return selection;
    }
    selection.kind = Selection::Kind::kField;
    selection.name_location = token_.location;
    selection.name = ExpectName();
    if (Skip(":")) {
      selection.alias = std::move(selection.name);
      selection.name_location = token_.location;
      selection.name = ExpectName();
    }
    selection.arguments = ParseArguments(/*constant=*/false);
    selection.directives = ParseDirectives(/*constant=*/false);
    if (Peek("{")) {
      selection.has_selection_set = true;
      selection.selections = ParseSelectionSet();
    }
    return selection;
  }

  std::vector<Argument> ParseArguments(bool constant) {
    std::vector<Argument> arguments;
    if (!Skip("(")) return arguments;
    do {
      Argument argument;
      argument.location = token_.location;
      argument.name = ExpectName();
      Expect(":");
      argument.value = ParseValue(constant);
      arguments.push_back(std::move(argument));
    } while (!Skip(")"));
    return arguments;
  }

  std::vector<Directive> ParseDirectives(bool constant) {
    std::vector<Directive> directives;
    while (Peek("@")) {
      Directive directive;
      directive.location = token_.location;
      Advance();
      directive.name = ExpectName();
      directive.arguments = ParseArguments(constant);
      directives.push_back(std::move(directive));
    }
    return directives;
  }

  Value ParseValue(bool constant) {
    Value value;
    value.location = token_.location;
    switch (token_.kind) {
      case Token::Kind::kInt:
      case Token::Kind::kFloat:
        value.kind = token_.kind == Token::Kind::kInt ? Value::Kind::kInt : Value::Kind::kFloat;
        value.text = token_.text;
        Advance();
        return value;
      case Token::Kind::kString:
        value.kind = Value::Kind::kString;
        value.text = token_.text;
        Advance();
        return value;
      case Token::Kind::kName:
        if (token_.text == "true" || token_.text == "false") {
          value.kind = Value::Kind::kBoolean;
          value.boolean = token_.text == "true";
        } else if (token_.text == "null") {
          value.kind = Value::Kind::kNull;
        } else {
          value.kind = Value::Kind::kEnum;
          value.text = token_.text;
        }
        Advance();
        return value;
      case Token::Kind::kPunctuator:
        if (Peek("$")) {
          if (constant) {
            Advance();
            std::string name = token_.kind == Token::Kind::kName ? token_.text : "";
            throw SyntaxError(
                "Syntax Error: Unexpected variable \"$" + name + "\" in constant value.",
                value.location);
          }
          Advance();
          value.kind = Value::Kind::kVariable;
          value.text = ExpectName();
          return value;
        }
        if (Peek("[")) {
          Nest nest(this);
          Advance();
          value.kind = Value::Kind::kList;
          while (!Skip("]")) value.list.push_back(ParseValue(constant));
          return value;
        }
        if (Peek("{")) {
          Nest nest(this);
          Advance();
          value.kind = Value::Kind::kObject;
          while (!Skip("}")) {
            std::string name = ExpectName();
            Expect(":");
            value.fields.push_back(ObjectField{std::move(name), ParseValue(constant)});
          }
          return value;
        }
        break;
      case Token::Kind::kEnd: break;
    }
    Unexpected();
  }

  Lexer lexer_;
  Token token_;
  int depth_ = 0;
};

}  // namespace

std::string ToString(const TypeRef& type) {
  switch (type.kind) {
    case TypeRef::Kind::kNamed: return type.name;
    case TypeRef::Kind::kList: return "[" + ToString(*type.of_type) + "]";
    case TypeRef::Kind::kNonNull: return ToString(*type.of_type) + "!";
  }
  return "";
}

const char* ToString(OperationDefinition::Type type) {
  switch (type) {
    case OperationDefinition::Type::kQuery: return "query";
    case OperationDefinition::Type::kMutation: return "mutation";
    case OperationDefinition::Type::kSubscription: return "subscription";
  }
  return "query";
}

ParseOutcome Parse(std::string_view source) {
  ParseOutcome outcome;
  try {
    Parser parser(source);
    outcome.document = parser.ParseDocument();
  } catch (const SyntaxError& error) {
    outcome.error = Error{error.what(), {error.location}, nullptr, nullptr};
  }
  return outcome;
}

std::optional<TypeRef> ParseType(std::string_view text) {
  try {
    Parser parser(text);
    TypeRef type = parser.ParseTypeReference();
    if (!parser.AtEnd()) return std::nullopt;
    return type;
  } catch (const SyntaxError&) {
    return std::nullopt;
  }
}

}  // namespace trainyard::graphql
