// Object-store staging (docs/slurm.md, "Object-store staging"): where no filesystem is shared
// with the server, trainyard-wrap downloads the job's input and uploads its outputs itself,
// through the presigned URLs of a staging manifest (TRAINYARD_STAGING) that the server minted for
// exactly this job. No credentials: each URL is one object, one method, and expires.
//
// Transfers go through libcurl (loaded on demand, curl_library.h), streamed to and from files:
// a download goes to a temporary file beside its target, its size and SHA-256 checked, then is
// renamed into place. Connection errors and 5xx/408/429 answers are retried with backoff; other
// answers (an expired or forged URL: 403) are not. A URL's query (its signature) never appears
// in a message. Thread-compatible: one staging at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "contract/ml_root.h"

namespace trainyard::wrapper {

// One file of the job's root to download: `path` is relative to the root
// ("input/data/train/train.csv", "input/config/hyperparameters.json", "code/train.py").
struct StagedInput {
  std::string path;
  std::string url;  // presigned GET
  uint64_t size = 0;
  std::string sha256;  // lowercase hex
};

// The outputs the wrapper sends back, by name; the exit record last.
inline constexpr char kStagedModel[] = "model.tar.gz";              // model/
inline constexpr char kStagedOutput[] = "output.tar.gz";            // output/data/ (the log too)
inline constexpr char kStagedLog[] = "training.log";                // the log alone
inline constexpr char kStagedExitRecord[] = "trainyard-exit.json";  // how the job ended

// The job's checkpoint archive (wrapper/checkpoint_sync.h): one object, read before the command
// starts and replaced while it runs. `restore_from` (optional): another job's archive, read when
// this job's own holds none (a promoted Hyperband trial starts where its parent stopped).
struct StagedCheckpoint {
  std::string get_url;           // presigned GET
  std::string put_url;           // presigned PUT
  std::string restore_from_url;  // presigned GET; empty: none
};

struct StagingManifest {
  std::vector<StagedInput> inputs;
  std::map<std::string, std::string> outputs;  // name above -> presigned PUT URL
  std::optional<StagedCheckpoint> checkpoint;  // "checkpoint": {"get", "put", "restore_from"}
};

// Parses the manifest's JSON text. InvalidArgument naming the field and the reason: not JSON, a
// missing or mistyped field, a path that is absolute, empty or has "." or ".." parts (it would
// leave the root), an output name not listed above, or a missing output URL.
Result<StagingManifest> ParseStagingManifest(const std::string& text);

// Parses {"get": URL, "put": URL, "restore_from": URL (optional)}, a checkpoint's URLs given on
// their own (TRAINYARD_CHECKPOINT_URLS). InvalidArgument naming `where` and the reason.
Result<StagedCheckpoint> ParseCheckpointUrls(const std::string& text, const std::string& where);

struct TransferOptions {
  // Tries per transfer, the first included: with the backoff below, about two minutes, so that
  // the outputs of a job outlive a restart of the server whose S3 endpoint receives them.
  int attempts = 10;
  std::chrono::milliseconds first_backoff{500};   // doubled after each failed try...
  std::chrono::milliseconds max_backoff{30'000};  // ...up to this
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than 1 byte/s for this long is abandoned (and retried).
  std::chrono::seconds stall_timeout{60};
};

// Downloads `url` to `target` (parent directories created), checking `size` and `sha256`.
// Unavailable after the last try of a retryable failure (connection, 5xx, a short answer),
// PermissionDenied for a 403 (an expired or forged URL), FailedPrecondition for a wrong digest
// (not retried: it is another object) and for any other answer; each message has the status code
// and S3's error code where the answer had one.
Status DownloadFile(const std::string& url, const std::filesystem::path& target, uint64_t size,
                    const std::string& sha256, const TransferOptions& options);

// Downloads the object at `url` to `target` whatever its size and digest (the wrapper's own
// checkpoint archive). NotFound for a 404 (no such object); the other errors as DownloadFile's.
Status DownloadObject(const std::string& url, const std::filesystem::path& target,
                      const TransferOptions& options);

// Uploads the file `source` to `url` with PUT, streamed. Errors as DownloadFile's.
Status UploadFile(const std::string& url, const std::filesystem::path& source,
                  const TransferOptions& options);

// Downloads every input of the manifest into `root`, saying each one through `say`. Fails at the
// first input that cannot be had: FailedPrecondition "channel 'train': downloading 'train.csv'
// failed: ..." for a channel's file (the job's input: ClientError), Unavailable for the config
// files and the code (trainyard's part: InternalServerError).
Status DownloadInputs(const contract::MlRoot& root, const StagingManifest& manifest,
                      const TransferOptions& options,
                      const std::function<void(const std::string&)>& say);

// Packs model/ and output/data/ of `root` and uploads them and the log (each as it exists;
// model.tar.gz and output.tar.gz always, empty archives for empty directories). Tries every
// output; returns the first failure, with the output's name.
Status UploadOutputs(const contract::MlRoot& root, const StagingManifest& manifest,
                     const TransferOptions& options,
                     const std::function<void(const std::string&)>& say);

}  // namespace trainyard::wrapper
