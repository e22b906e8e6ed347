// Multinomial logistic regression (softmax) over the 64 digit pixels, and its model.json format.
#pragma once

#include <array>
#include <cstddef>
#include <nlohmann/json.hpp>
#include <span>

#include "digits_csv.h"

namespace trainyard::example {

inline constexpr const char* kModelFormat = "trainyard.example.softmax/v1";

using ClassScores = std::array<double, kDigitClasses>;
using WeightMatrix = std::array<FeatureVector, kDigitClasses>;  // one row of weights per class

struct SoftmaxModel {
  WeightMatrix weights{};  // zero-initialised: every class equally likely, loss = ln(10)
  ClassScores bias{};
  long long trained_steps = 0;  // SGD steps behind these weights, counting any pretraining
};

// Mean cross-entropy loss and the gradient of that mean over one minibatch.
struct LossGradient {
  double loss = 0;
  WeightMatrix weights{};
  ClassScores bias{};
};

struct EvaluationMetrics {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction of rows whose most probable class is the label
};

// Softmax probabilities of each class for one row of features.
ClassScores ClassProbabilities(const SoftmaxModel& model, const FeatureVector& features);

// Gradient over the rows of `dataset` listed in `batch`; an empty batch gives a zero gradient.
LossGradient ComputeLossGradient(const SoftmaxModel& model, const DigitsDataset& dataset,
                                 std::span<const std::size_t> batch);

void ApplyGradient(SoftmaxModel& model, const LossGradient& gradient, double learning_rate);

EvaluationMetrics Evaluate(const SoftmaxModel& model, const DigitsDataset& dataset);

nlohmann::ordered_json ModelToJson(const SoftmaxModel& model);
// Throws std::runtime_error saying which field is missing or has the wrong shape.
SoftmaxModel ModelFromJson(const nlohmann::json& json);

}  // namespace trainyard::example
