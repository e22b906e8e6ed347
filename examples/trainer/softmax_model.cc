#include "softmax_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace trainyard::example {
namespace {

// Probabilities never reach exactly 0 in exact arithmetic; the floor keeps log() finite when
// they underflow for a confidently wrong model.
constexpr double kMinProbability = 1e-300;

std::size_t ArgMax(const ClassScores& scores) {
  return static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
}

double CrossEntropy(const ClassScores& probabilities, int label) {
  return -std::log(std::max(probabilities[label], kMinProbability));
}

template <std::size_t N>
std::array<double, N> NumberArray(const nlohmann::json& json, const std::string& what) {
  if (!json.is_array() || json.size() != N) {
    throw std::runtime_error(what + " must be an array of " + std::to_string(N) + " numbers");
  }
  std::array<double, N> values{};
  for (std::size_t i = 0; i < N; ++i) {
    if (!json[i].is_number()) throw std::runtime_error(what + " must contain only numbers");
    values[i] = json[i].get<double>();
  }
  return values;
}

}  // namespace

ClassScores ClassProbabilities(const SoftmaxModel& model, const FeatureVector& features) {
  ClassScores scores = model.bias;
  for (int k = 0; k < kDigitClasses; ++k) {
    for (int j = 0; j < kDigitFeatures; ++j) scores[k] += model.weights[k][j] * features[j];
  }
  // Subtracting the largest score keeps exp() from overflowing; it cancels in the ratio.
  const double max_score = *std::max_element(scores.begin(), scores.end());
  double total = 0;
  for (double& score : scores) {
    score = std::exp(score - max_score);
    total += score;
  }
  for (double& score : scores) score /= total;
  return scores;
}

LossGradient ComputeLossGradient(const SoftmaxModel& model, const DigitsDataset& dataset,
                                 std::span<const std::size_t> batch) {
  LossGradient gradient;
  if (batch.empty()) return gradient;
  for (const std::size_t row : batch) {
    const FeatureVector& features = dataset.features[row];
    const int label = dataset.labels[row];
    const ClassScores probabilities = ClassProbabilities(model, features);
    gradient.loss += CrossEntropy(probabilities, label);
    // d(cross-entropy)/d(score_k) = p_k - [k == label]
    for (int k = 0; k < kDigitClasses; ++k) {
      const double score_gradient = probabilities[k] - (k == label ? 1.0 : 0.0);
      gradient.bias[k] += score_gradient;
      for (int j = 0; j < kDigitFeatures; ++j) {
        gradient.weights[k][j] += score_gradient * features[j];
      }
    }
  }
  const double scale = 1.0 / static_cast<double>(batch.size());
  gradient.loss *= scale;
  for (int k = 0; k < kDigitClasses; ++k) {
    gradient.bias[k] *= scale;
    for (double& weight_gradient : gradient.weights[k]) weight_gradient *= scale;
  }
  return gradient;
}

void ApplyGradient(SoftmaxModel& model, const LossGradient& gradient, double learning_rate) {
  for (int k = 0; k < kDigitClasses; ++k) {
    model.bias[k] -= learning_rate * gradient.bias[k];
    for (int j = 0; j < kDigitFeatures; ++j) {
      model.weights[k][j] -= learning_rate * gradient.weights[k][j];
    }
  }
}

EvaluationMetrics Evaluate(const SoftmaxModel& model, const DigitsDataset& dataset) {
  EvaluationMetrics metrics;
  if (dataset.size() == 0) return metrics;
  std::size_t correct = 0;
  for (std::size_t row = 0; row < dataset.size(); ++row) {
    const ClassScores probabilities = ClassProbabilities(model, dataset.features[row]);
    metrics.loss += CrossEntropy(probabilities, dataset.labels[row]);
    if (ArgMax(probabilities) == static_cast<std::size_t>(dataset.labels[row])) ++correct;
  }
  metrics.loss /= static_cast<double>(dataset.size());
  metrics.accuracy = static_cast<double>(correct) / static_cast<double>(dataset.size());
  return metrics;
}

nlohmann::ordered_json ModelToJson(const SoftmaxModel& model) {
  nlohmann::ordered_json json;
  json["format"] = kModelFormat;
  json["features"] = kDigitFeatures;
  json["classes"] = kDigitClasses;
  json["weights"] = model.weights;
  json["bias"] = model.bias;
  json["trained_steps"] = model.trained_steps;
  return json;
}

SoftmaxModel ModelFromJson(const nlohmann::json& json) {
  if (!json.is_object()) throw std::runtime_error("model must be a JSON object");
  if (json.value("format", "") != kModelFormat) {
    throw std::runtime_error(std::string("model format must be \"") + kModelFormat + "\"");
  }
  if (json.value("features", 0) != kDigitFeatures || json.value("classes", 0) != kDigitClasses) {
    throw std::runtime_error("model must have 64 features and 10 classes");
  }
  SoftmaxModel model;
  const auto& weights = json.contains("weights") ? json["weights"] : nlohmann::json();
  if (!weights.is_array() || weights.size() != kDigitClasses) {
    throw std::runtime_error("model weights must be an array of 10 rows");
  }
  for (int k = 0; k < kDigitClasses; ++k) {
    model.weights[k] =
        NumberArray<kDigitFeatures>(weights[k], "model weights row " + std::to_string(k));
  }
  model.bias = NumberArray<kDigitClasses>(json.contains("bias") ? json["bias"] : nlohmann::json(),
                                          "model bias");
  const auto& trained_steps =
      json.contains("trained_steps") ? json["trained_steps"] : nlohmann::json(0);
  if (!trained_steps.is_number_integer() || trained_steps.get<long long>() < 0) {
    throw std::runtime_error("model trained_steps must be a non-negative integer");
  }
  model.trained_steps = trained_steps.get<long long>();
  return model;
}

}  // namespace trainyard::example
