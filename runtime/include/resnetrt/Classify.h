//===- Classify.h - a trained model on a data set ---------------*- C++ -*-===//
//
// `resnetc --mode=infer` links a model's program object with
// libresnetrt-classify.a into `classify`, which runs eval_step with the
// weights of a checkpoint the model's train wrote (classify --checkpoint),
// or times eval_step on synthetic data (classify --benchmark). It finds and
// prepares the data as train's evaluation does and counts correct images
// the same way, so `classify --checkpoint=F` and
// `train --eval-only --resume=F` report the same accuracy. Each ends with
// one JSON object on the last line of its output:
//   classify   {"model","checkpoint","split","images","correct","accuracy",
//               "loss","images_per_s"}
//              images_per_s: images over the evaluation's seconds (prepare_eval
//              and waiting for data included, loading excluded)
//   benchmark  {"model","batch","threads","warmup","steps","step_ms_median",
//               "step_ms_p10","step_ms_p90","images_per_s","kernels_per_step",
//               "device", and for a GPU build "host_device_copies_per_step"}
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_CLASSIFY_H
#define RESNETRT_CLASSIFY_H

#include "resnetrt/Program.h"

#include <cstdio>
#include <string>
#include <vector>

namespace resnetrt {

/// Runs classify for `program` with `args` (argv without argv[0]), writing
/// progress and results to `out` and errors to `err`. Returns the exit
/// status (Error.h); never calls exit().
int runClassify(const rn_program &program, const std::vector<std::string> &args,
                FILE *out, FILE *err);

/// main() of every classify: runClassify on stdout and stderr.
int classifyMain(const rn_program &program, int argc, char **argv);

} // namespace resnetrt

#endif // RESNETRT_CLASSIFY_H
