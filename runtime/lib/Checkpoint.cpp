//===- Checkpoint.cpp - saving and resuming a training run ----------------===//

#include "resnetrt/Checkpoint.h"

#include "resnetrt/Arena.h"
#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Text.h"

#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "checkpoints are written in the host's byte order, which must "
              "be little-endian");

namespace fs = std::filesystem;

namespace resnetrt {

static constexpr char kMagic[8] = {'R', 'N', 'C', 'K', 'P', 'T', 0, 0};
static constexpr uint32_t kVersion = 3;

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {
/// Appends to a file and keeps the CRC-32 of what it wrote.
class Writer {
public:
  Writer(FILE *file) : file(file) {}
  void bytes(const void *data, size_t size) {
    if (size == 0)
      return;
    crc = crc32_z(crc, static_cast<const Bytef *>(data), size);
    ok = ok && std::fwrite(data, 1, size, file) == size;
  }
  template <typename T> void pod(T value) { bytes(&value, sizeof value); }
  void str(const std::string &text) {
    pod(uint32_t(text.size()));
    bytes(text.data(), text.size());
  }
  /// Writes the checksum; false if any write failed.
  bool finish() {
    uint32_t sum = uint32_t(crc);
    ok = ok && std::fwrite(&sum, 1, sizeof sum, file) == sizeof sum;
    return ok;
  }

private:
  FILE *file;
  uLong crc = crc32_z(0, nullptr, 0);
  bool ok = true;
};
} // namespace

/// The variables a checkpoint holds: all but the derived ones, which
/// prepare_eval recomputes, so a program that folds BatchNorm and one that
/// does not share checkpoints.
static std::vector<const rn_variable *>
savedVariables(const rn_program &program) {
  std::vector<const rn_variable *> saved;
  for (int32_t i = 0; i < program.num_variables; ++i)
    if (program.variables[i].role != RN_DERIVED)
      saved.push_back(&program.variables[i]);
  return saved;
}

static void writeContents(Writer &out, const rn_program &program, Arena &arena,
                          const CheckpointInfo &info) {
  out.bytes(kMagic, sizeof kMagic);
  out.pod(kVersion);
  out.str(info.model);
  out.str(info.optimizer);
  out.str(info.target);
  out.str(info.fingerprint);
  out.pod(uint32_t(info.flags.size()));
  for (const FlagValue &flag : info.flags) {
    out.str(flag.name);
    out.str(flag.value);
  }
  const TrainingState &state = info.state;
  out.pod(state.step);
  out.pod(state.epoch);
  out.pod(state.batchInEpoch);
  out.pod(state.epochLossSum);
  out.pod(state.epochCorrect);
  out.pod(state.epochImages);
  out.pod(state.bestValAccuracy);
  const CallbackState &callbacks = state.callbacks;
  out.pod(callbacks.stopBest);
  out.pod(callbacks.stopWait);
  out.pod(callbacks.bestEpoch);
  out.pod(uint8_t(callbacks.stopped));
  out.pod(callbacks.plateauBest);
  out.pod(callbacks.plateauWait);
  out.pod(callbacks.cooldown);
  out.pod(callbacks.lrScale);
  std::vector<const rn_variable *> saved = savedVariables(program);
  out.pod(uint32_t(saved.size()));
  for (const rn_variable *entry : saved) {
    const rn_variable &variable = *entry;
    out.str(variable.name);
    out.pod(variable.role);
    out.pod(variable.rank);
    out.bytes(variable.shape, sizeof(int64_t) * variable.rank);
    out.bytes(arena.variable(variable), sizeof(float) * elementCount(variable));
  }
  out.pod(uint32_t(info.bestWeights.size()));
  for (const StoredVariable &variable : info.bestWeights) {
    out.str(variable.name);
    out.bytes(variable.values.data(), sizeof(float) * variable.values.size());
  }
}

/// Where a checkpoint's temporary file goes while it is written.
static std::string temporaryPath(const std::string &path, pid_t pid) {
  return fmt::format("{}.tmp.{}", path, pid);
}

/// The directory of a checkpoint path.
static fs::path directoryOf(const std::string &path) {
  fs::path target(path);
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

/// Makes the renames in `dir` durable.
static void syncDirectory(const fs::path &dir) {
  int dirFd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dirFd >= 0) {
    fsync(dirFd);
    close(dirFd);
  }
}

/// Shifts PATH.1 .. PATH.(keep-2) up by one and links PATH to PATH.1, each
/// step one rename, so PATH and every kept file exist throughout.
static void rotate(const std::string &path, int keep) {
  auto kept = [&](int i) { return fmt::format("{}.{}", path, i); };
  for (int i = keep - 2; i >= 1; --i)
    std::rename(kept(i).c_str(), kept(i + 1).c_str());
  std::string link = kept(1) + ".tmp";
  std::remove(link.c_str());
  if (::link(path.c_str(), link.c_str()) != 0 ||
      std::rename(link.c_str(), kept(1).c_str()) != 0) {
    int error = errno;
    std::remove(link.c_str());
    if (error != ENOENT) // no PATH yet: nothing to keep
      fail("cannot keep the previous checkpoint as {}: {}", kept(1),
           std::strerror(error));
  }
}

void saveCheckpoint(const std::string &path, const rn_program &program,
                    Arena &arena, const CheckpointInfo &info, int keep) {
  fs::path dir = directoryOf(path);
  std::error_code ignored;
  fs::create_directories(dir, ignored);
  std::string temporary = temporaryPath(path, getpid());

  FILE *file = std::fopen(temporary.c_str(), "wb");
  if (!file)
    fail("cannot write checkpoint {}: {}; check --checkpoint's directory",
         temporary, std::strerror(errno));
  Writer out(file);
  arena.downloadVariables();
  writeContents(out, program, arena, info);
  auto abandon = [&](int error) {
    std::remove(temporary.c_str());
    fail("cannot write checkpoint {}: {} (the previous checkpoint, if any, "
         "is unchanged)",
         path, std::strerror(error));
  };
  bool ok = out.finish() && std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  int error = errno;
  if (!(std::fclose(file) == 0 && ok))
    abandon(ok ? errno : error);
  if (keep > 1)
    rotate(path, keep);
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    abandon(errno);
  syncDirectory(dir);
}

void prepareCheckpointPath(const std::string &path) {
  fs::path dir = directoryOf(path);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error)
    fail("cannot create the checkpoint directory {}: {}", dir.string(),
         error.message());
  if (fs::is_directory(path))
    fail("checkpoint path {} is a directory; name a file in it, e.g. "
         "{}/model.ckpt",
         path, path);
  // Temporaries of processes that died writing (kill -9, power loss).
  std::string prefix = fs::path(path).filename().string() + ".tmp.";
  for (const fs::directory_entry &entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0)
      continue;
    std::optional<int64_t> pid = parseInteger(name.substr(prefix.size()));
    if (pid && *pid > 0 && kill(pid_t(*pid), 0) != 0 && errno == ESRCH)
      fs::remove(entry.path(), error);
  }
  // A probe file, so that a read-only directory or a full disk shows now,
  // not after the first epoch.
  std::string probe = temporaryPath(path, getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  bool ok = fd >= 0 && write(fd, kMagic, sizeof kMagic) == sizeof kMagic;
  int cause = errno;
  if (fd >= 0)
    close(fd);
  std::remove(probe.c_str());
  if (!ok)
    fail("cannot write checkpoints to {}: {}; pick a writable place with "
         "--checkpoint",
         dir.string(), std::strerror(cause));
}

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

namespace {
/// Reads fields off a checkpoint's bytes, failing on a short file.
class Reader {
public:
  Reader(const std::string &path, const std::vector<uint8_t> &data)
      : path(path), data(data) {}
  void bytes(void *out, size_t size) {
    if (size > data.size() - pos)
      fail("checkpoint {} is truncated", path);
    std::memcpy(out, data.data() + pos, size);
    pos += size;
  }
  template <typename T> T pod() {
    T value;
    bytes(&value, sizeof value);
    return value;
  }
  std::string str() {
    uint32_t size = pod<uint32_t>();
    if (size > data.size() - pos)
      fail("checkpoint {} is truncated", path);
    std::string text(size, '\0');
    bytes(text.data(), text.size());
    return text;
  }

private:
  const std::string &path;
  const std::vector<uint8_t> &data;
  size_t pos = 0;
};
} // namespace

Checkpoint readCheckpoint(const std::string &path) {
  return parseCheckpoint(path, readWholeFile(path, "checkpoint"));
}

Checkpoint parseCheckpoint(const std::string &path,
                           std::vector<uint8_t> data) {
  if (data.size() < sizeof kMagic + 8 ||
      std::memcmp(data.data(), kMagic, sizeof kMagic) != 0)
    fail("{} is not a resnetc checkpoint", path);
  uint32_t stored;
  std::memcpy(&stored, data.data() + data.size() - 4, 4);
  data.resize(data.size() - 4);
  if (uint32_t(crc32_z(crc32_z(0, nullptr, 0), data.data(), data.size())) !=
      stored)
    fail("checkpoint {} is damaged or truncated (its checksum does not "
         "match its {} bytes); use another checkpoint (with --keep, the "
         "older ones are PATH.1, PATH.2, ...) or start afresh",
         path, data.size() + 4);

  Reader in(path, data);
  char magic[sizeof kMagic];
  in.bytes(magic, sizeof magic);
  uint32_t version = in.pod<uint32_t>();
  if (version != 2 && version != kVersion)
    fail("checkpoint {} has format version {}; this runtime reads versions 2 "
         "and {}",
         path, version, kVersion);
  Checkpoint checkpoint;
  CheckpointInfo &info = checkpoint.info;
  info.model = in.str();
  info.optimizer = in.str();
  info.target = in.str();
  info.fingerprint = in.str();
  for (uint32_t i = 0, count = in.pod<uint32_t>(); i < count; ++i) {
    FlagValue flag;
    flag.name = in.str();
    flag.value = in.str();
    info.flags.push_back(std::move(flag));
  }
  TrainingState &state = info.state;
  state.step = in.pod<int64_t>();
  state.epoch = in.pod<int64_t>();
  state.batchInEpoch = in.pod<int64_t>();
  state.epochLossSum = in.pod<double>();
  state.epochCorrect = in.pod<int64_t>();
  state.epochImages = in.pod<int64_t>();
  state.bestValAccuracy = in.pod<double>();
  if (version >= 3) {
    CallbackState &callbacks = state.callbacks;
    callbacks.stopBest = in.pod<double>();
    callbacks.stopWait = in.pod<int64_t>();
    callbacks.bestEpoch = in.pod<int64_t>();
    callbacks.stopped = in.pod<uint8_t>() != 0;
    callbacks.plateauBest = in.pod<double>();
    callbacks.plateauWait = in.pod<int64_t>();
    callbacks.cooldown = in.pod<int64_t>();
    callbacks.lrScale = in.pod<double>();
    if (!(callbacks.lrScale > 0 && callbacks.lrScale <= 1))
      fail("checkpoint {} is damaged: its learning-rate scale is {}", path,
           callbacks.lrScale);
  }
  uint32_t count = in.pod<uint32_t>();
  for (uint32_t i = 0; i < count; ++i) {
    StoredVariable variable;
    variable.name = in.str();
    variable.role = in.pod<int32_t>();
    int32_t rank = in.pod<int32_t>();
    if (rank < 0 || rank > 4)
      fail("checkpoint {} is damaged: variable {} has rank {}", path,
           variable.name, rank);
    int64_t elements = 1;
    for (int32_t d = 0; d < rank; ++d) {
      variable.shape.push_back(in.pod<int64_t>());
      if (variable.shape.back() <= 0 || variable.shape.back() > (1ll << 40))
        fail("checkpoint {} is damaged: variable {} has extent {}", path,
             variable.name, variable.shape.back());
      // More floats than the file has bytes is a damaged file (and checking
      // here keeps the product from overflowing).
      if (__builtin_mul_overflow(elements, variable.shape.back(), &elements) ||
          elements > int64_t(data.size()))
        fail("checkpoint {} is truncated", path);
    }
    variable.values.resize(size_t(elements));
    in.bytes(variable.values.data(), sizeof(float) * variable.values.size());
    checkpoint.variables.push_back(std::move(variable));
  }
  // Early stopping's best weights: each the size of its variable above.
  for (uint32_t i = 0, best = version >= 3 ? in.pod<uint32_t>() : 0; i < best;
       ++i) {
    StoredVariable variable;
    variable.name = in.str();
    auto same = std::find_if(
        checkpoint.variables.begin(), checkpoint.variables.end(),
        [&](const StoredVariable &v) { return v.name == variable.name; });
    if (same == checkpoint.variables.end())
      fail("checkpoint {} is damaged: its best weights hold {}, which is "
           "not one of its variables",
           path, variable.name);
    variable.role = same->role;
    variable.shape = same->shape;
    variable.values.resize(same->values.size());
    in.bytes(variable.values.data(), sizeof(float) * variable.values.size());
    info.bestWeights.push_back(std::move(variable));
  }
  return checkpoint;
}

CheckpointInfo loadCheckpoint(const std::string &path,
                              const rn_program &program, Arena &arena) {
  Checkpoint checkpoint = readCheckpoint(path);
  const CheckpointInfo &info = checkpoint.info;
  if (info.model != program.model_name)
    fail("checkpoint {} is for model {}, but this program is model {}", path,
         info.model, program.model_name);
  if (info.optimizer != program.optimizer)
    fail("checkpoint {} was trained with {}, but this program was compiled "
         "for {}",
         path, info.optimizer, program.optimizer);

  std::map<std::string_view, const StoredVariable *> stored;
  for (const StoredVariable &variable : checkpoint.variables)
    if (variable.role != RN_DERIVED)
      stored[variable.name] = &variable;
  std::vector<std::string> problems;
  std::vector<const rn_variable *> targets = savedVariables(program);
  std::vector<const StoredVariable *> sources;
  for (const rn_variable *target : targets) {
    const rn_variable &variable = *target;
    std::vector<int64_t> shape(variable.shape, variable.shape + variable.rank);
    auto found = stored.find(variable.name);
    if (found == stored.end()) {
      problems.push_back(fmt::format("{} is missing", variable.name));
      continue;
    }
    const StoredVariable &source = *found->second;
    if (source.shape != shape || source.role != variable.role)
      problems.push_back(fmt::format(
          "{} has shape [{}] and role {} there but [{}] and role {} here",
          variable.name, fmt::join(source.shape, ","), source.role,
          fmt::join(shape, ","), variable.role));
    sources.push_back(&source);
    stored.erase(found);
  }
  for (const auto &[name, variable] : stored)
    problems.push_back(fmt::format("{} is not in this model", name));
  if (!problems.empty())
    fail("checkpoint {} does not match model {}: {}", path, program.model_name,
         fmt::join(problems, "; "));

  // train never saves a non-finite value (it stops instead): such a file
  // was damaged before its checksum was computed, or made elsewhere.
  for (const StoredVariable *source : sources)
    if (!std::all_of(source->values.begin(), source->values.end(),
                     [](float v) { return std::isfinite(v); }))
      fail("checkpoint {} holds a NaN or infinity in {}; train never saves "
           "one, so the file is damaged: use another checkpoint",
           path, source->name);
  for (size_t i = 0; i < targets.size(); ++i)
    std::copy(sources[i]->values.begin(), sources[i]->values.end(),
              arena.variable(*targets[i]));
  arena.uploadVariables();
  return info;
}

} // namespace resnetrt
