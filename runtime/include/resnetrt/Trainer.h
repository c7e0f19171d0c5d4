//===- Trainer.h - train's main loop ----------------------------*- C++ -*-===//
//
// What `train` does with its flags: train and evaluate (the default),
// evaluate a checkpoint (--eval-only), or time steps on synthetic data
// (--benchmark). Each ends with one JSON object on the last line of its
// output, so scripts read the result with `tail -n 1`:
//   training   {"model","test_accuracy","test_loss","train_loss",
//               "train_accuracy","val_accuracy","best_val_accuracy" (with a
//               validation split),"epochs","steps","batch","threads",
//               "device","images_per_s","train_seconds","total_seconds"}
//              train_seconds counts the training steps of this process
//              (waiting for data included, evaluation not); images_per_s is
//              the training images of this process (of all ranks under
//              mpirun) over it. Under mpirun also "ranks" and
//              "allreduce_exposed_ms_per_step" (Distributed.h), and
//              "stopped_early", "best_epoch" when early stopping ended it.
//   eval-only  {"model","test_accuracy","test_loss","test_images","step"}
//   benchmark  {"model","batch","threads","warmup","steps","step_ms_median",
//               "step_ms_p10","step_ms_p90","images_per_s","kernels_per_step",
//               "device", and for a GPU build "host_device_copies_per_step":
//               every copy between host and device memory per timed step;
//               under mpirun "ranks", "allreduce_buckets", "gradient_bytes",
//               "allreduce_exposed_ms_per_step" (waiting before the update),
//               "allreduce_overlapped_ms_per_step" (buckets in flight while
//               kernels ran), and "sync_batch_norm_ms_per_step" for a
//               --sync-batch-norm build}
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_TRAINER_H
#define RESNETRT_TRAINER_H

#include "resnetrt/Program.h"

#include <cstdio>
#include <string>
#include <vector>

namespace resnetrt {

/// Runs train for `program` with `args` (argv without argv[0]), writing
/// progress and results to `out` and errors to `err`. Returns the exit
/// status (Error.h); never calls exit().
int runTrain(const rn_program &program, const std::vector<std::string> &args,
             FILE *out, FILE *err);

/// main() of every train: runTrain on stdout and stderr.
int trainMain(const rn_program &program, int argc, char **argv);

} // namespace resnetrt

#endif // RESNETRT_TRAINER_H
