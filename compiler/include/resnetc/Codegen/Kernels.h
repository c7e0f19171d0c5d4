//===- Kernels.h - Halide kernel families: the contract ---------*- C++ -*-===//
//
// A kernel is one Halide pipeline specialised to the static shapes of one op
// of a training step. This header is the contract between the compiler, which
// turns rn ops into KernelSpecs, and the kernel families, which turn a
// KernelSpec into a scheduled Halide pipeline. It has no MLIR in it: the
// families build with RTTI and exceptions, as libHalide does.
//
// Memory layouts. For each logical rn shape, the Halide buffer a kernel sees:
//   activation   [N, C, H, W]    -> dims (c, x, y, n): channels innermost (NHWC)
//   activation   [N, K]          -> dims (k, n)
//   per-channel  [C]             -> dims (c)
//   conv filter  [O, I, KH, KW]  -> dims (kw, kh, i, o): OIHW row-major (PyTorch)
//   dense weight [M, K]          -> dims (k, m)                 (PyTorch)
//   labels       [N] (i32)       -> dims (n)
//   scalar       []              -> a 0-D buffer
//   flat         [P]             -> dims (p)   (optimizer over many tensors)
// All buffers are dense: dim 0 has stride 1, each next stride is the product
// of the extents before it. Host pointers are 128-byte aligned, as
// Halide::Runtime::Buffer allocates them: Halide may use aligned vector
// accesses on buffers (an autoscheduled kernel faulted on 16-byte ones). The batch extent N (the last dim of activations
// and labels) is a run-time value; every other extent is the static one in
// the spec, and kernels constrain their buffers to it so Halide can
// specialise. Shapes in a KernelSpec are the logical rn shapes (NCHW order)
// with N set to the batch the program was compiled for (a size estimate).
//
// Argument order of every generated function (the ABI the host code calls):
//   the input buffers in spec order, then the run-time scalars of the family,
//   then the output buffers in spec order.
//
// In-place families (optimizer updates, running statistics) are called with
// some outputs bound to the same memory as inputs; their algorithms are
// pointwise over those pairs and their schedules read every input at a
// point before any output there is written, which makes the aliasing safe.
//
//===----------------------------------------------------------------------===//
//
// The families, each named as the rn op that runs it (rn.conv2d runs
// conv2d; KernelCalls.cpp attaches the call to every rn op but those marked
// RN_NoKernel). "in" and "out" are logical shapes; ints/floats are
// attributes.
//
// Forward
//   conv2d               in  x[N,C,H,W], w[O,C/g,KH,KW], (b[O])
//                        ints strides[2], padding[4] (top,left,bottom,right),
//                             dilations[2], groups[1]
//                        out y[N,O,Ho,Wo]
//   dense                in  x[N,K], w[M,K], (b[M])          out y[N,M]
//   batch_norm_train     in  x[N,C,H,W] or [N,C], gamma[C], beta[C],
//                            running_mean[C], running_var[C]
//                        floats epsilon, momentum
//                        out y, mean[C], invstd[C],            (batch stats)
//                            new_running_mean[C], new_running_var[C]
//                        invstd = 1/sqrt(biased batch var + epsilon);
//                        running = momentum*running + (1-momentum)*batch,
//                        with the unbiased batch variance (m/(m-1)), as PyTorch
//                        (for m = 1 the biased one, 0, not a division by 0).
//                        The two new_running_* outputs alias the inputs.
//   batch_norm (inference)  x, gamma[C], beta[C], running_mean[C], running_var[C]
//                        floats epsilon                      out y
//   each activation of RNActivations.td (relu, leaky_relu, ...)
//                        in  x (2-D or 4-D); floats: the op's attributes
//                                                            out y
//   softmax              in  x[N,K]                          out y[N,K]
//   add                  in  a, b (same shape)               out c
//   concat               in  k >= 2 tensors                  out y (channels joined)
//   max_pool2d | avg_pool2d
//                        in  x[N,C,H,W]; ints kernel[2], strides[2], padding[4],
//                        avg only: count_include_pad[1]      out y
//                        (floor output sizes; each padding below the window,
//                        so every window holds a pixel of x)
//   global_avg_pool | global_max_pool
//                        in  x[N,C,H,W]                      out y[N,C]
//   zero_pad             in  x; ints low[3], high[3] ([C,H,W]) out y
//   subsample            in  x; ints strides[2]              out y (x[:, :, ::sh, ::sw])
//   dropout_train        in  x; floats rate; scalar seed:u32 out y
//   dropblock_train      in  x[N,C,H,W]; floats rate; ints block_size[1];
//                        scalar seed:u32                     out y
//                        Both draw their mask from a counter-based hash of
//                        (seed, element index), so the backward kernel
//                        recomputes it and no mask is stored.
//   softmax_cross_entropy
//                        in  logits[N,K], labels[N] (i32); ints with_gradient[1];
//                        scalar label_smoothing:f32
//                        out loss[] (mean over the batch), correct[] (i32, argmax
//                            == label), and if with_gradient: dlogits[N,K]
//                            (gradient of the mean loss)
// Backward
//   conv2d_backward_data    in dy[N,O,Ho,Wo], w; ints as conv2d  out dx[N,C,H,W]
//   conv2d_backward_filter  in x, dy; ints as conv2d   out dw, (db[O] if 2 outputs)
//   dense_backward_data     in dy[N,M], w[M,K]         out dx[N,K]
//   dense_backward_weights  in x[N,K], dy[N,M]         out dw[M,K], (db[M])
//   batch_norm_backward     in dy, x, gamma, mean, invstd (batch stats)
//                           out dx, dgamma[C], dbeta[C]
//   <activation>_backward   in dy, saved (the forward input or output,
//                           as RNActivations.td says); floats as forward
//                                                         out dx
//   max_pool2d_backward     in dy, x; ints as forward     out dx
//   avg_pool2d_backward     in dy; ints as forward        out dx
//   global_avg_pool_backward in dy[N,C]                   out dx[N,C,H,W]
//   global_max_pool_backward in dy[N,C], x                out dx
//   zero_pad_backward       in dy; ints low, high         out dx
//   subsample_backward      in dy; ints strides           out dx
//   concat_backward         in dy                         out one per input
//   dropout_backward        in dy; floats rate; scalar seed:u32      out dx
//   dropblock_backward      in dy; floats rate; ints block_size;
//                           scalar seed:u32                          out dx
// Fused (rn-fuse-conv-bn-relu; docs/fusion.md)
//   conv2d_stats         in  x, w, (b); ints as conv2d, relu[1]
//                        out y (conv, then max(., 0) if relu), image_sum[N,O],
//                            image_m2[N,O] (per image and channel: sum of y
//                            and sum of squared deviations from its mean)
//   add_stats            in  a, b [N,C,H,W]  out c = a + b, image_sum, image_m2
//   fused_conv2d         in  x, w, (b if ints bias), (residual if ints
//                            residual); ints as conv2d, relu[1], bias[1],
//                            residual[1]
//                        out act(conv + b + residual)
//   batch_norm_apply     in  y[N,C,H,W], image_sum, image_m2, gamma, beta,
//                            running_mean, running_var, (residual);
//                        floats epsilon, momentum; ints relu[1]
//                        out act((y - mean) invstd gamma + beta (+ residual)),
//                            mean, invstd, new_running_mean, new_running_var:
//                            batch_norm_train's statistics, combined from the
//                            per-image moments (running ones alias the inputs)
//   batch_norm_apply_backward
//                        in  dy, x, gamma, beta, mean, invstd, (result);
//                            ints relu[1]
//                        out dx, dgamma, dbeta, (residual_grad = g): the
//                            batch_norm_backward of g = relu ? dy [result > 0]
//                            : dy, the forward's result recomputed from x
//                            where it is not an input (no residual)
//   fold_batch_norm      in  w[O,I,KH,KW], gamma, beta, mean, var, (b[O]);
//                        floats epsilon
//                        out w * s, beta + (b - mean) s  (s = gamma /
//                            sqrt(var + epsilon), per output channel)
// Synchronised BatchNorm (resnetc --sync-batch-norm; RNTrainOps.td): a run
// on several ranks sums the marked outputs over the ranks between kernels
//   batch_norm_sums      in  x, shift[C] (the running mean)
//                        out sums[3,C]: sum (x - shift) as hi, lo floats,
//                            images                              (ranks sum)
//   batch_norm_deviations in x, shift, sums
//                        out m2[C]: sum (x - mean)^2              (ranks sum)
//   batch_norm_global    in  x, gamma, beta, running_mean, running_var, sums,
//                            m2; floats epsilon, momentum
//                        out batch_norm_train's outputs, from the sums
//   batch_norm_grad_sums in  dy, x, mean, invstd
//                        out dgamma, dbeta, sums[4,C]: sum dy, sum dy (x -
//                            mean), each as hi, lo   (ranks sum, gradients)
//   batch_norm_global_backward
//                        in  dy, x, gamma, mean, invstd, sums (gradient),
//                            batch_sums (forward)       out dx
// Optimizers (flat over all trainable parameters, in place). Their
// hyperparameters are run-time scalars, so train's flags can override them.
//   sgd_update   in  w[P], g[P], m[P]
//                scalars lr:f32, momentum:f32, weight_decay:f32, nesterov:i32
//                out w_new[P], m_new[P]
//                g' = g + wd*w; m = momentum*m + g'; step = nesterov ? g' +
//                momentum*m : m; w -= lr*step   (PyTorch's SGD, dampening 0)
//   adam_update  in  w[P], g[P], m[P], v[P]; floats decoupled (0: Adam, 1: AdamW)
//                scalars lr:f32, beta1:f32, beta2:f32, epsilon:f32,
//                weight_decay:f32, step:i32 (1-based)
//                out w_new[P], m_new[P], v_new[P]   (PyTorch's Adam / AdamW)
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_CODEGEN_KERNELS_H
#define RESNETC_CODEGEN_KERNELS_H

#include "resnetc/Codegen/KernelSpec.h"

#include "Halide.h"

#include <string>
#include <vector>

namespace resnetc::kernels {

/// A built, scheduled pipeline and the parameters it reads.
struct Kernel {
  Halide::Pipeline pipeline;
  std::vector<Halide::ImageParam> inputs;          ///< One per spec input.
  std::vector<Halide::Internal::Parameter> scalars; ///< The family's scalars.
  /// inputs then scalars: what compile_to_object takes (outputs come last).
  std::vector<Halide::Argument> arguments() const;
};

/// Builds the algorithm of `spec` and schedules it for `target`. Throws
/// Halide::CompileError with a readable message for an unknown family or a
/// spec that breaks the family's contract.
Kernel buildKernel(const KernelSpec &spec, const Halide::Target &target,
                   Scheduler scheduler = Scheduler::Hand);

/// Every family name this library can build.
std::vector<std::string> familyNames();

} // namespace resnetc::kernels

#endif // RESNETC_CODEGEN_KERNELS_H
