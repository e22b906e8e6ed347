#include "training_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

#include "digits_csv.h"
#include "minibatch_sampler.h"
#include "progress_log.h"
#include "softmax_model.h"

namespace trainyard::example {
namespace {

// About this many progress lines per run, whatever the iteration count, so the file stays small.
constexpr int kProgressReportsPerRun = 50;

double RoundForReport(double value) {
  return std::round(value * 1e6) / 1e6;
}

DigitsDataset LoadCsvChannel(const Channel& channel) {
  DigitsDataset dataset;
  int csv_files = 0;
  for (const auto& file : channel.files) {
    if (file.extension() != ".csv") continue;
    dataset.Append(LoadDigitsCsv(file));
    ++csv_files;
  }
  if (csv_files == 0) {
    throw std::runtime_error("channel '" + channel.name + "' has no .csv files (dir " +
                             channel.dir.string() + ")");
  }
  if (dataset.size() == 0) {
    throw std::runtime_error("channel '" + channel.name + "' has only empty .csv files (dir " +
                             channel.dir.string() + ")");
  }
  return dataset;
}

SoftmaxModel StartingModel(const std::optional<Channel>& pretrained) {
  if (!pretrained) {
    std::printf("starting from zero weights\n");
    return {};
  }
  const auto model_file =
      std::find_if(pretrained->files.begin(), pretrained->files.end(),
                   [](const auto& file) { return file.filename() == "model.json"; });
  if (model_file == pretrained->files.end()) {
    std::fprintf(stderr, "warning: channel 'pretrained' has no model.json; starting from zeros\n");
    return {};
  }
  try {
    SoftmaxModel model = ModelFromJson(ReadJsonFile(*model_file));
    std::printf("starting from pretrained %s (trained_steps=%lld)\n", model_file->c_str(),
                model.trained_steps);
    return model;
  } catch (const std::exception& error) {
    throw std::runtime_error("channel 'pretrained': " + model_file->string() + ": " + error.what());
  }
}

// Write-then-rename, so a job killed mid-write never leaves a truncated file for upload.
void WriteFileAtomically(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  const auto temporary = path.parent_path() / ("." + path.filename().string() + ".partial");
  {
    std::ofstream output(temporary, std::ios::trunc);
    output << content;
    output.close();
    if (!output) throw std::runtime_error("cannot write " + temporary.string());
  }
  std::filesystem::rename(temporary, path);
}

// checkpoint.json: the steps done and the weights after them. The batches come from the seed, so
// a run that resumes at step N draws what an unbroken run draws from step N on.
constexpr char kCheckpointFile[] = "checkpoint.json";

void WriteCheckpoint(const JobConfig& config, int steps_done, const SoftmaxModel& model) {
  if (config.checkpoint_dir.empty()) return;
  nlohmann::ordered_json checkpoint;
  checkpoint["iteration"] = steps_done;
  checkpoint["model"] = ModelToJson(model);
  WriteFileAtomically(config.checkpoint_dir / kCheckpointFile, checkpoint.dump() + "\n");
}

// The steps already done and the model after them, when the checkpoint dir holds a checkpoint.
std::optional<std::pair<int, SoftmaxModel>> ReadCheckpoint(const JobConfig& config) {
  const auto path = config.checkpoint_dir / kCheckpointFile;
  if (config.checkpoint_dir.empty() || !std::filesystem::exists(path)) return std::nullopt;
  try {
    const nlohmann::json checkpoint = ReadJsonFile(path);
    const int iteration = checkpoint.at("iteration").get<int>();
    if (iteration < 0) throw std::runtime_error("negative iteration");
    return std::pair(iteration, ModelFromJson(checkpoint.at("model")));
  } catch (const std::exception& error) {
    throw std::runtime_error("checkpoint " + path.string() + ": " + error.what());
  }
}

std::string PredictionsCsv(const SoftmaxModel& model, const DigitsDataset& dataset) {
  std::ostringstream csv;
  csv << "row,label,predicted,confidence\n";
  char confidence[32];
  for (std::size_t row = 0; row < dataset.size(); ++row) {
    const ClassScores probabilities = ClassProbabilities(model, dataset.features[row]);
    const auto predicted = std::max_element(probabilities.begin(), probabilities.end());
    std::snprintf(confidence, sizeof confidence, "%.6f", *predicted);
    // Rows count from 1 in reading order: files sorted by path, blank lines skipped.
    csv << row + 1 << ',' << dataset.labels[row] << ',' << (predicted - probabilities.begin())
        << ',' << confidence << '\n';
  }
  return csv.str();
}

nlohmann::ordered_json ProgressRecord(int step, int total_steps, double epochs,
                                      const EvaluationMetrics& training) {
  nlohmann::ordered_json record;
  record["progress"] = RoundForReport(static_cast<double>(step) / total_steps);
  record["step"] = step;
  record["total_steps"] = total_steps;
  record["epoch"] = RoundForReport(epochs);
  record["metrics"] = {{"loss", RoundForReport(training.loss)},
                       {"accuracy", RoundForReport(training.accuracy)}};
  return record;
}

}  // namespace

int RunTrainingJob(const JobConfig& config, const volatile std::sig_atomic_t& stop_requested) {
  if (!config.training) {
    throw std::runtime_error(
        "channel 'training' is missing from job.json; it must list the .csv files to train on");
  }
  const Hyperparameters& hyperparameters = config.hyperparameters;
  const DigitsDataset training = LoadCsvChannel(*config.training);
  const std::optional<DigitsDataset> evaluation =
      config.evaluation ? std::optional(LoadCsvChannel(*config.evaluation)) : std::nullopt;
  const std::string evaluation_summary =
      evaluation ? "evaluating on " + std::to_string(evaluation->size()) + " rows"
                 : "no evaluation channel";
  std::printf("training on %zu rows; %s; learning_rate=%g batch_size=%d iterations=%d seed=%llu\n",
              training.size(), evaluation_summary.c_str(), hyperparameters.learning_rate,
              hyperparameters.batch_size, hyperparameters.iterations,
              static_cast<unsigned long long>(hyperparameters.seed));
  ProgressLog progress(config.progress_file);
  MinibatchSampler sampler(training.size(), hyperparameters.seed);
  SoftmaxModel model;
  int steps_done = 0;
  if (auto checkpoint = ReadCheckpoint(config)) {
    std::tie(steps_done, model) = std::move(*checkpoint);
    std::printf("resuming from iteration %d\n", steps_done);
    // The batches an unbroken run drew before this step.
    for (int step = 0; step < steps_done; ++step) {
      sampler.Next(static_cast<std::size_t>(hyperparameters.batch_size));
    }
  } else {
    model = StartingModel(config.pretrained);
  }

  const int total_steps = hyperparameters.iterations;
  auto report = [&](int step) {
    const EvaluationMetrics metrics = Evaluate(model, training);
    std::printf("step=%d/%d loss=%.4f accuracy=%.4f\n", step, total_steps, metrics.loss,
                metrics.accuracy);
    std::fflush(stdout);
    progress.Append(ProgressRecord(step, total_steps, sampler.epochs(), metrics));
  };

  // The starting point (untrained, pretrained or resumed) is reported before any update.
  report(std::min(steps_done, total_steps));
  // A checkpoint at each report: about as often, and as cheap, whatever the iteration count.
  const int report_every = std::max(1, total_steps / kProgressReportsPerRun);
  while (steps_done < total_steps && !stop_requested) {
    const auto batch = sampler.Next(static_cast<std::size_t>(hyperparameters.batch_size));
    ApplyGradient(model, ComputeLossGradient(model, training, batch),
                  hyperparameters.learning_rate);
    ++model.trained_steps;
    ++steps_done;
    if (hyperparameters.step_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(hyperparameters.step_delay_ms));
    }
    if (steps_done % report_every == 0 || steps_done == total_steps) {
      report(steps_done);
      WriteCheckpoint(config, steps_done, model);
    }
  }

  const auto model_path = config.model_dir / "model.json";
  if (steps_done < total_steps) {
    const auto metrics = Evaluate(model, training);
    auto record = ProgressRecord(steps_done, total_steps, sampler.epochs(), metrics);
    record["message"] = "stopped by SIGTERM after " + std::to_string(steps_done) + " of " +
                        std::to_string(total_steps) + " steps; model saved";
    progress.Append(record);
    WriteFileAtomically(model_path, ModelToJson(model).dump() + "\n");
    WriteCheckpoint(config, steps_done, model);
    std::printf("stopped by SIGTERM after %d of %d steps; wrote %s\n", steps_done, total_steps,
                model_path.c_str());
    return kStoppedExitCode;
  }

  if (evaluation) {
    const EvaluationMetrics training_metrics = Evaluate(model, training);
    const EvaluationMetrics evaluation_metrics = Evaluate(model, *evaluation);
    std::printf("eval_loss=%.4f eval_accuracy=%.4f\n", evaluation_metrics.loss,
                evaluation_metrics.accuracy);
    auto record = ProgressRecord(steps_done, total_steps, sampler.epochs(), training_metrics);
    record["message"] = "evaluated on " + std::to_string(evaluation->size()) + " rows";
    record["metrics"]["eval_loss"] = RoundForReport(evaluation_metrics.loss);
    record["metrics"]["eval_accuracy"] = RoundForReport(evaluation_metrics.accuracy);
    progress.Append(record);
    if (config.output_dir.empty()) {
      std::fprintf(stderr, "warning: job.json has no output_dir; not writing predictions.csv\n");
    } else {
      const auto predictions_path = config.output_dir / "predictions.csv";
      WriteFileAtomically(predictions_path, PredictionsCsv(model, *evaluation));
      std::printf("wrote %s\n", predictions_path.c_str());
    }
  }
  WriteFileAtomically(model_path, ModelToJson(model).dump() + "\n");
  std::printf("wrote %s\n", model_path.c_str());
  return 0;
}

}  // namespace trainyard::example
