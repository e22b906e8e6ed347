#include "core/search_gp.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/search.h"

namespace trainyard::core {
namespace {

constexpr double kSqrt5 = 2.2360679774997896;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Bounds of the fitted hyperparameters (inputs are unit coordinates, losses standardised).
constexpr double kMinLogLengthscale = -4.6;  // 0.01
constexpr double kMaxLogLengthscale = 4.6;   // 100
constexpr double kMinLogNoise = -13.8;       // 1e-6: keeps the matrix positive definite
constexpr double kMaxLogNoise = 0.0;

// Matern 5/2 correlation at scaled distance r, and its derivative with respect to the log of a
// length scale divided by that dimension's scaled squared distance: d k / d log l_k =
// (5/3) (1 + sqrt5 r) e^(-sqrt5 r) (delta_k / l_k)^2.
double Matern(double r) {
  return (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r);
}
double MaternLengthscaleFactor(double r) {
  return 5.0 / 3.0 * (1.0 + kSqrt5 * r) * std::exp(-kSqrt5 * r);
}

// In place: the lower Cholesky factor of the symmetric n x n matrix (row-major). False when
// the matrix is not numerically positive definite.
bool Cholesky(std::vector<double>& a, size_t n) {
  for (size_t j = 0; j < n; ++j) {
    double diagonal = a[j * n + j];
    for (size_t k = 0; k < j; ++k) diagonal -= a[j * n + k] * a[j * n + k];
    if (!(diagonal > 0)) return false;
    const double root = std::sqrt(diagonal);
    a[j * n + j] = root;
    for (size_t i = j + 1; i < n; ++i) {
      double value = a[i * n + j];
      for (size_t k = 0; k < j; ++k) value -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = value / root;
    }
    for (size_t i = 0; i < j; ++i) a[i * n + j] = 0;
  }
  return true;
}

// x = L^-1 b, and x = L^-T b.
void SolveLower(const std::vector<double>& l, size_t n, std::vector<double>& b) {
  for (size_t i = 0; i < n; ++i) {
    double value = b[i];
    for (size_t k = 0; k < i; ++k) value -= l[i * n + k] * b[k];
    b[i] = value / l[i * n + i];
  }
}
void SolveUpper(const std::vector<double>& l, size_t n, std::vector<double>& b) {
  for (size_t i = n; i-- > 0;) {
    double value = b[i];
    for (size_t k = i + 1; k < n; ++k) value -= l[k * n + i] * b[k];
    b[i] = value / l[i * n + i];
  }
}

// log(z Phi(z) + phi(z)), the expected improvement of a unit Gaussian over a margin z, without
// underflow far below the incumbent (an asymptotic series there), so that candidates far from
// any improvement are still ranked.
double LogExpectedImprovementFactor(double z) {
  const double log_density = -0.5 * z * z - 0.5 * std::log(2 * M_PI);
  if (z > -5) {
    const double value = z * 0.5 * std::erfc(-z / std::sqrt(2.0)) + std::exp(log_density);
    return std::log(std::max(value, 1e-300));
  }
  const double inverse_square = 1.0 / (z * z);
  return log_density + std::log(inverse_square) +
         std::log1p(-3 * inverse_square + 15 * inverse_square * inverse_square);
}

// The training data and the fitted process.
class GaussianProcess {
 public:
  GaussianProcess(const std::vector<ParameterRange>& ranges,
                  const std::vector<SearchObservation>& observations)
      : dims_(ranges.size()), count_(observations.size()) {
    categorical_.reserve(dims_);
    for (const ParameterRange& range : ranges) {
      categorical_.push_back(range.type == ParameterType::kCategorical);
    }
    for (const SearchObservation& observation : observations) {
      points_.insert(points_.end(), observation.coordinates.begin(), observation.coordinates.end());
      targets_.push_back(observation.loss);
    }
    // Standardised losses: the process has mean 0 and a fitted amplitude.
    const double mean = std::accumulate(targets_.begin(), targets_.end(), 0.0) / count_;
    double spread = 0;
    for (double target : targets_) spread += (target - mean) * (target - mean);
    spread = std::sqrt(spread / count_);
    if (!(spread > 0)) spread = 1;
    for (double& target : targets_) target = (target - mean) / spread;
    ComputeSquaredDeltas();
    log_lengthscales_.assign(dims_, std::log(0.5));
  }

  // Maximum a posteriori of the length scales and the noise by 60 steps of iRprop- (Igel and
  // Huesken 2000) on the log posterior's gradient, from length scales of 0.5 and a noise of
  // 1e-3: sign-driven steps need no line search, and the same data give the same fit. The
  // amplitude is profiled out (for given length scales and noise its maximum likelihood has a
  // closed form).
  bool Fit() {
    std::vector<double> parameters(log_lengthscales_);
    parameters.push_back(log_noise_);
    std::vector<double> gradient(parameters.size());
    std::vector<double> previous(parameters.size(), 0.0);
    std::vector<double> steps(parameters.size(), 0.1);
    std::vector<double> best = parameters;
    double best_value = -kInfinity;
    for (int iteration = 0; iteration < 60; ++iteration) {
      const double value = LogPosterior(parameters, &gradient);
      if (!std::isfinite(value)) break;
      if (value > best_value) {
        best_value = value;
        best = parameters;
      }
      for (size_t p = 0; p < parameters.size(); ++p) {
        const double sign = gradient[p] * previous[p];
        if (sign > 0) steps[p] = std::min(steps[p] * 1.2, 1.0);
        if (sign < 0) {
          steps[p] = std::max(steps[p] * 0.5, 1e-4);
          gradient[p] = 0;
        }
        if (gradient[p] > 0) parameters[p] += steps[p];
        if (gradient[p] < 0) parameters[p] -= steps[p];
        const bool noise = p + 1 == parameters.size();
        parameters[p] = std::clamp(parameters[p], noise ? kMinLogNoise : kMinLogLengthscale,
                                   noise ? kMaxLogNoise : kMaxLogLengthscale);
        previous[p] = gradient[p];
      }
    }
    if (!std::isfinite(best_value)) return false;
    log_lengthscales_.assign(best.begin(), best.begin() + dims_);
    log_noise_ = best.back();
    if (!Condition()) return false;
    incumbent_ = *std::min_element(targets_.begin(), targets_.end());
    amplitude_ = std::inner_product(targets_.begin(), targets_.end(), alpha_.begin(), 0.0) /
                 static_cast<double>(count_);
    return amplitude_ > 0;
  }

  // Adds trials that have not finished as if each had given the mean predicted there (the
  // "kriging believer"), keeping the fitted hyperparameters: the variance there drops to the
  // noise, so the expected improvement no longer points at them.
  bool AddPending(const std::vector<std::vector<double>>& pending) {
    if (pending.empty()) return true;
    std::vector<double> believed;
    for (const std::vector<double>& point : pending) believed.push_back(Predict(point).first);
    for (size_t i = 0; i < pending.size(); ++i) {
      points_.insert(points_.end(), pending[i].begin(), pending[i].end());
      targets_.push_back(believed[i]);
    }
    count_ += pending.size();
    ComputeSquaredDeltas();
    return Condition();
  }

  // The posterior mean and standard deviation of the standardised loss at a point.
  std::pair<double, double> Predict(const std::vector<double>& point) const {
    std::vector<double> correlations(count_);
    for (size_t i = 0; i < count_; ++i) {
      double squared = 0;
      for (size_t k = 0; k < dims_; ++k) {
        squared += SquaredDelta(k, point[k], points_[i * dims_ + k]) * inverse_squares_[k];
      }
      correlations[i] = Matern(std::sqrt(squared));
    }
    const double mean =
        std::inner_product(correlations.begin(), correlations.end(), alpha_.begin(), 0.0);
    SolveLower(factor_, count_, correlations);
    const double explained =
        std::inner_product(correlations.begin(), correlations.end(), correlations.begin(), 0.0);
    return {mean, std::sqrt(amplitude_ * std::max(1.0 - explained, 1e-12))};
  }

  double LogExpectedImprovement(const std::vector<double>& point) const {
    const auto [mean, deviation] = Predict(point);
    return std::log(deviation) + LogExpectedImprovementFactor((incumbent_ - mean) / deviation);
  }

 private:
  double SquaredDelta(size_t k, double a, double b) const {
    if (categorical_[k]) return a == b ? 0.0 : 1.0;
    return (a - b) * (a - b);
  }

  // The correlation matrix plus the noise on its diagonal, from the pairs' squared deltas.
  void BuildMatrix(const std::vector<double>& inverse_squares, double noise,
                   std::vector<double>& matrix, std::vector<double>* distances) const {
    matrix.assign(count_ * count_, 0.0);
    if (distances) distances->resize(count_ * (count_ - 1) / 2);
    size_t pair = 0;
    for (size_t i = 0; i < count_; ++i) {
      for (size_t j = 0; j < i; ++j, ++pair) {
        double squared = 0;
        for (size_t k = 0; k < dims_; ++k) {
          squared += squared_deltas_[pair * dims_ + k] * inverse_squares[k];
        }
        const double r = std::sqrt(squared);
        if (distances) (*distances)[pair] = r;
        matrix[i * count_ + j] = matrix[j * count_ + i] = Matern(r);
      }
      matrix[i * count_ + i] = 1.0 + noise;
    }
  }

  // The log marginal likelihood with the amplitude profiled out, plus the log priors: Gamma(3,
  // 6) on each length scale and Gamma(1.1, 0.05) on the noise variance, the priors BoTorch's
  // SingleTaskGP long took by default (its inputs unit coordinates and its outcomes
  // standardised, as here). With its gradient with respect to the log parameters.
  double LogPosterior(const std::vector<double>& parameters, std::vector<double>* gradient) const {
    std::vector<double> inverse_squares(dims_);
    for (size_t k = 0; k < dims_; ++k) inverse_squares[k] = std::exp(-2 * parameters[k]);
    const double noise = std::exp(parameters[dims_]);
    std::vector<double> factor;
    std::vector<double> distances;
    BuildMatrix(inverse_squares, noise, factor, &distances);
    if (!Cholesky(factor, count_)) return -kInfinity;
    std::vector<double> alpha = targets_;
    SolveLower(factor, count_, alpha);
    SolveUpper(factor, count_, alpha);
    const double fit = std::inner_product(targets_.begin(), targets_.end(), alpha.begin(), 0.0);
    if (!(fit > 0)) return -kInfinity;
    double log_determinant = 0;
    for (size_t i = 0; i < count_; ++i) log_determinant += std::log(factor[i * count_ + i]);
    const double n = static_cast<double>(count_);
    double value = -0.5 * n * std::log(fit / n) - log_determinant;
    for (size_t k = 0; k < dims_; ++k) {
      const double lengthscale = std::exp(parameters[k]);
      value += 2 * std::log(lengthscale) - 6 * lengthscale;
    }
    value += 0.1 * std::log(noise) - 0.05 * noise;

    // d/dtheta = 1/2 (n / fit) alpha' dA alpha - 1/2 tr(A^-1 dA), dA symmetric.
    std::vector<double> inverse(count_ * count_, 0.0);
    std::vector<double> column(count_);
    for (size_t j = 0; j < count_; ++j) {
      std::fill(column.begin(), column.end(), 0.0);
      column[j] = 1;
      SolveLower(factor, count_, column);
      SolveUpper(factor, count_, column);
      for (size_t i = 0; i < count_; ++i) inverse[i * count_ + j] = column[i];
    }
    gradient->assign(dims_ + 1, 0.0);
    const double scale = n / fit;
    size_t pair = 0;
    for (size_t i = 0; i < count_; ++i) {
      for (size_t j = 0; j < i; ++j, ++pair) {
        const double weight = (scale * alpha[i] * alpha[j] - inverse[i * count_ + j]) *
                              MaternLengthscaleFactor(distances[pair]);
        for (size_t k = 0; k < dims_; ++k) {
          (*gradient)[k] += weight * squared_deltas_[pair * dims_ + k] * inverse_squares[k];
        }
      }
    }
    double alpha_square = 0;
    double trace = 0;
    for (size_t i = 0; i < count_; ++i) {
      alpha_square += alpha[i] * alpha[i];
      trace += inverse[i * count_ + i];
    }
    (*gradient)[dims_] = 0.5 * noise * (scale * alpha_square - trace) + 0.1 - 0.05 * noise;
    for (size_t k = 0; k < dims_; ++k) (*gradient)[k] += 2 - 6 * std::exp(parameters[k]);
    return value;
  }

  // Each pair's squared distance per dimension, computed once for the whole fit.
  void ComputeSquaredDeltas() {
    squared_deltas_.resize(count_ * (count_ - 1) / 2 * dims_);
    size_t pair = 0;
    for (size_t i = 0; i < count_; ++i) {
      for (size_t j = 0; j < i; ++j, ++pair) {
        for (size_t k = 0; k < dims_; ++k) {
          squared_deltas_[pair * dims_ + k] =
              SquaredDelta(k, points_[i * dims_ + k], points_[j * dims_ + k]);
        }
      }
    }
  }

  // The factor and weights that predictions use, at the fitted hyperparameters.
  bool Condition() {
    inverse_squares_.resize(dims_);
    for (size_t k = 0; k < dims_; ++k) inverse_squares_[k] = std::exp(-2 * log_lengthscales_[k]);
    BuildMatrix(inverse_squares_, std::exp(log_noise_), factor_, nullptr);
    if (!Cholesky(factor_, count_)) return false;
    alpha_ = targets_;
    SolveLower(factor_, count_, alpha_);
    SolveUpper(factor_, count_, alpha_);
    return true;
  }

  size_t dims_;
  size_t count_;
  std::vector<bool> categorical_;
  std::vector<double> points_;  // count_ x dims_
  std::vector<double> targets_;
  std::vector<double> squared_deltas_;  // per pair (i > j) and dimension
  std::vector<double> log_lengthscales_;
  double log_noise_ = std::log(1e-3);
  std::vector<double> inverse_squares_;
  std::vector<double> factor_;
  std::vector<double> alpha_;
  double amplitude_ = 1;  // the process's variance, of the finished trials' fit
  double incumbent_ = 0;  // the best standardised loss observed (pending trials excluded)
};

// A uniform point of the space: unit coordinates, categories by index.
std::vector<double> RandomPoint(const std::vector<ParameterRange>& ranges,
                                std::mt19937_64& random) {
  std::vector<double> point(ranges.size());
  for (size_t k = 0; k < ranges.size(); ++k) {
    const double unit = UniformUnit(random);
    point[k] = ranges[k].type == ParameterType::kCategorical
                   ? std::min(std::floor(unit * ranges[k].values.size()),
                              static_cast<double>(ranges[k].values.size() - 1))
                   : unit;
  }
  return point;
}

// A step from `point`: each numeric coordinate moved by a Gaussian of the given scale (clipped
// to the range), each category changed with probability `scale`.
std::vector<double> Perturb(const std::vector<ParameterRange>& ranges,
                            const std::vector<double>& point, double scale,
                            std::mt19937_64& random) {
  std::vector<double> moved = point;
  for (size_t k = 0; k < ranges.size(); ++k) {
    if (ranges[k].type == ParameterType::kCategorical) {
      if (UniformUnit(random) < scale) {
        moved[k] = std::min(std::floor(UniformUnit(random) * ranges[k].values.size()),
                            static_cast<double>(ranges[k].values.size() - 1));
      }
    } else {
      moved[k] = std::clamp(point[k] + scale * StandardNormal(random), 0.0, 1.0);
    }
  }
  return moved;
}

}  // namespace

std::optional<std::vector<double>> SuggestGp(const std::vector<ParameterRange>& ranges,
                                             const std::vector<SearchObservation>& observations,
                                             const std::vector<std::vector<double>>& pending,
                                             std::mt19937_64& random) {
  if (observations.size() < 2 || ranges.empty()) return std::nullopt;
  GaussianProcess process(ranges, observations);
  if (!process.Fit() || !process.AddPending(pending)) return std::nullopt;

  // The expected improvement's maximum, searched as many BO libraries do: random points of the
  // whole space and points near the best results, then a local search from the best few.
  struct Candidate {
    double score;
    std::vector<double> point;
  };
  std::vector<Candidate> candidates;
  auto consider = [&](std::vector<double> point) {
    const double score = process.LogExpectedImprovement(point);
    if (std::isfinite(score)) candidates.push_back({score, std::move(point)});
  };
  for (int i = 0; i < 1000; ++i) consider(RandomPoint(ranges, random));
  std::vector<size_t> order(observations.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return observations[a].loss < observations[b].loss; });
  for (size_t rank = 0; rank < std::min<size_t>(5, order.size()); ++rank) {
    for (int i = 0; i < 100; ++i) {
      consider(Perturb(ranges, observations[order[rank]].coordinates, i % 2 ? 0.02 : 0.1, random));
    }
  }
  if (candidates.empty()) return std::nullopt;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  candidates.resize(std::min<size_t>(5, candidates.size()));
  for (Candidate& candidate : candidates) {
    // A (1+1) evolution strategy with the one-fifth success rule (Rechenberg).
    double scale = 0.05;
    for (int step = 0; step < 40; ++step) {
      std::vector<double> moved = Perturb(ranges, candidate.point, scale, random);
      const double score = process.LogExpectedImprovement(moved);
      if (score > candidate.score) {
        candidate = {score, std::move(moved)};
        scale = std::min(scale * 1.5, 0.5);
      } else {
        scale = std::max(scale * 0.9, 1e-4);
      }
    }
  }
  const auto best =
      std::max_element(candidates.begin(), candidates.end(),
                       [](const Candidate& a, const Candidate& b) { return a.score < b.score; });
  return best->point;
}

}  // namespace trainyard::core
