//===- RNOps.td - rn dialect operations --------------------*- tablegen -*-===//
//
// One op per layer of the DSL, plus the variables that hold a model's state.
// Every op with a result infers it through `InferTypeOpAdaptor`; the shape rule
// itself is the op's static `inferResultType`, which the frontend calls before
// it builds the op so that a bad layer is reported at its DSL location.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNOPS_TD
#define RESNETC_DIALECT_RN_IR_RNOPS_TD

include "resnetc/Dialect/RN/IR/RNBase.td"
include "resnetc/Dialect/RN/IR/RNInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ViewLikeInterface.td"

//===----------------------------------------------------------------------===//
// State: variables, loads and stores
//===----------------------------------------------------------------------===//

def RN_VariableOp : RN_Op<"variable", [Symbol, RN_NoKernel]> {
  let summary = "a persistent tensor of the model (weight, bias, statistic)";
  let description = [{
    Declares one tensor of the model's state at module level. `trainable`
    variables are what the optimizer updates; the others (BatchNorm running
    statistics) change only through `rn.store`. `init` says how the tensor is
    filled before training. `derived` variables (a conv's weights with a
    BatchNorm folded in) are recomputed from the others by `@prepare_eval`;
    checkpoints neither hold nor restore them.

    ```mlir
    rn.variable @stem.conv.weight : tensor<16x3x3x3xf32>
        {init = #rn.init<he_normal>, trainable}
    rn.variable @stem.bn.running_mean : tensor<16xf32> {init = #rn.init<zeros>}
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<RN_Tensor>:$type,
                       RN_InitAttr:$init,
                       UnitAttr:$trainable,
                       UnitAttr:$derived);
  let assemblyFormat = "$sym_name `:` $type attr-dict";
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

def RN_LoadOp : RN_Op<"load", [RN_NoKernel, RN_BatchedResultsOpInterface,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead]>, DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "reads the current value of a variable";
  let description = [{
    ```mlir
    %w = rn.load @stem.conv.weight : tensor<16x3x3x3xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$variable);
  let results = (outs RN_Tensor:$result);
  let assemblyFormat = "$variable attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Convolution and dense layers
//===----------------------------------------------------------------------===//

def RN_Conv2DOp : RN_Op<"conv2d", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_CostOpInterface>, DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "2-D convolution of an NCHW tensor with an OIHW filter";
  let description = [{
    `strides` and `dilations` are `[h, w]`; `padding` is
    `[top, left, bottom, right]` (implicit zeros). With `groups = g` the input
    channels split into `g` groups and the filter has `C / g` input channels.
    The optional `bias` has one value per output channel.
    Output size: `(H + top + bottom - ((KH - 1) * dh + 1)) / sh + 1`.

    ```mlir
    %y = rn.conv2d %x, %w {strides = array<i64: 2, 2>,
                           padding = array<i64: 1, 1, 1, 1>,
                           dilations = array<i64: 1, 1>, groups = 1}
        : (tensor<8x16x32x32xf32>, tensor<32x16x3x3xf32>)
        -> tensor<8x32x16x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, RN_Tensor4D:$filter,
                       Optional<RN_Tensor1D>:$bias,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilations,
                       I64Attr:$groups);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::mlir::Type filter, ::mlir::Type bias,
        ::llvm::ArrayRef<int64_t> strides, ::llvm::ArrayRef<int64_t> padding,
        ::llvm::ArrayRef<int64_t> dilations, int64_t groups);
  }];
}

def RN_DenseOp : RN_Op<"dense", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_CostOpInterface>, DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "fully connected layer: x (N x K) times weight^T (M x K)";
  let description = [{
    The weight is `[out_features, in_features]`, as in PyTorch.

    ```mlir
    %y = rn.dense %x, %w, %b
        : (tensor<8x64xf32>, tensor<10x64xf32>, tensor<10xf32>)
        -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$input, RN_Tensor2D:$weight,
                       Optional<RN_Tensor1D>:$bias);
  let results = (outs RN_Tensor2D:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::mlir::Type weight, ::mlir::Type bias);
  }];
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

def RN_BatchNormOp : RN_Op<"batch_norm", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>,
    DeclareOpInterfaceMethods<RN_StepFormOpInterface>]> {
  let summary = "batch normalisation over the channel axis";
  let description = [{
    `y = scale * (x - mean) / sqrt(variance + epsilon) + offset`, per channel
    (axis 1 of an NCHW or NC tensor). As written in the forward graph it uses
    the running `mean` and `variance`; the training step replaces it with the
    batch-statistics form and updates the running values with
    `running = momentum * running + (1 - momentum) * batch` (so `momentum =
    0.9` here is PyTorch's `momentum = 0.1`).

    ```mlir
    %y = rn.batch_norm %x, %gamma, %beta, %mean, %var
        {epsilon = 1.0e-05 : f64, momentum = 9.0e-01 : f64}
        : (tensor<8x16x32x32xf32>, tensor<16xf32>, tensor<16xf32>,
           tensor<16xf32>, tensor<16xf32>) -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2DOr4D:$input, RN_Tensor1D:$scale,
                       RN_Tensor1D:$offset, RN_Tensor1D:$mean,
                       RN_Tensor1D:$variance, F64Attr:$epsilon,
                       F64Attr:$momentum);
  let results = (outs RN_Tensor2DOr4D:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $offset `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::mlir::TypeRange channelParams, double epsilon, double momentum);
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise activations
//===----------------------------------------------------------------------===//

// relu, leaky_relu, sigmoid, tanh, gelu: RNActivations.td.

def RN_SoftmaxOp : RN_Op<"softmax", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "softmax over the class axis of an N x K tensor";
  let description = [{
    Turns logits into probabilities. The training step never differentiates
    through it: a softmax that ends the model is folded into the loss
    (softmax cross-entropy on its input).

    ```mlir
    %p = rn.softmax %logits : tensor<8x10xf32>
    ```
  }];
  let arguments = (ins RN_Tensor2D:$input);
  let results = (outs RN_Tensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Merging branches
//===----------------------------------------------------------------------===//

def RN_AddOp : RN_Op<"add", [Pure, Commutative,
    AllTypesMatch<["lhs", "rhs", "result"]>, DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>,
    DeclareOpInterfaceMethods<RN_BatchedResultsOpInterface, ["isResultBatched"]>]> {
  let summary = "elementwise sum of two tensors of one shape (residual add)";
  let description = [{
    ```mlir
    %y = rn.add %a, %b : tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins RN_Tensor:$lhs, RN_Tensor:$rhs);
  let results = (outs RN_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type lhs, ::mlir::Type rhs);
  }];
}

def RN_ConcatOp : RN_Op<"concat", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>, DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "concatenation along the channel axis";
  let description = [{
    Joins two or more NCHW (or NC) tensors along axis 1; every other
    dimension must agree.

    ```mlir
    %y = rn.concat %a, %b : (tensor<8x16x8x8xf32>, tensor<8x32x8x8xf32>)
        -> tensor<8x48x8x8xf32>
    ```
  }];
  let arguments = (ins Variadic<RN_Tensor2DOr4D>:$inputs);
  let results = (outs RN_Tensor2DOr4D:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::TypeRange inputs);
  }];
}

//===----------------------------------------------------------------------===//
// Pooling and resampling
//===----------------------------------------------------------------------===//

class RN_Pool2DOp<string mnemonic, string what, dag extraArgs = (ins),
                  string extraExample = "">
    : RN_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       DeclareOpInterfaceMethods<RN_GradientOpInterface>,
                       DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = what # " pooling over 2-D windows";
  let description = [{
    `kernel` and `strides` are `[h, w]`; `padding` is
    `[top, left, bottom, right]`. Each padding is smaller than the window.

    ```mlir
    %y = rn.}] # mnemonic # [{ %x {kernel = array<i64: 3, 3>,
        strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>}] #
        extraExample # [{}
        : (tensor<8x64x112x112xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = !con((ins RN_Tensor4D:$input,
                            DenseI64ArrayAttr:$kernel,
                            DenseI64ArrayAttr:$strides,
                            DenseI64ArrayAttr:$padding), extraArgs);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::llvm::ArrayRef<int64_t> kernel, ::llvm::ArrayRef<int64_t> strides,
        ::llvm::ArrayRef<int64_t> padding);
  }];
}

def RN_MaxPool2DOp : RN_Pool2DOp<"max_pool2d", "max">;
def RN_AvgPool2DOp : RN_Pool2DOp<"avg_pool2d", "average",
    (ins BoolAttr:$count_include_pad), ", count_include_pad = false"> {
  let description = [{
    Averages each window. With `count_include_pad = false` (Keras) a window
    that overlaps the padding divides by the number of real elements; with
    `true` (PyTorch's default) by the full window size.

    ```mlir
    %y = rn.avg_pool2d %x {kernel = array<i64: 2, 2>,
        strides = array<i64: 2, 2>, padding = array<i64: 0, 0, 0, 0>,
        count_include_pad = false}
        : (tensor<8x2048x2x2xf32>) -> tensor<8x2048x1x1xf32>
    ```
  }];
}

class RN_GlobalPoolOp<string mnemonic, string what>
    : RN_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                       DeclareOpInterfaceMethods<RN_GradientOpInterface>,
                       DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = what # " over all spatial positions: N x C x H x W -> N x C";
  let description = [{
    ```mlir
    %y = rn.}] # mnemonic # [{ %x : (tensor<8x64x8x8xf32>) -> tensor<8x64xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input);
  let results = (outs RN_Tensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input);
  }];
}

def RN_GlobalAvgPoolOp : RN_GlobalPoolOp<"global_avg_pool", "mean">;
def RN_GlobalMaxPoolOp : RN_GlobalPoolOp<"global_max_pool", "maximum">;

def RN_ZeroPadOp : RN_Op<"zero_pad", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>, DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "pads channels, rows and columns with zeros";
  let description = [{
    `low` and `high` are the zeros added before and after each of
    `[C, H, W]`. Padding the channels of a subsampled input is the
    parameter-free "option A" shortcut of He et al.'s CIFAR ResNets.

    ```mlir
    %y = rn.zero_pad %x {low = array<i64: 0, 3, 3>, high = array<i64: 0, 3, 3>}
        : (tensor<8x3x64x64xf32>) -> tensor<8x3x70x70xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::llvm::ArrayRef<int64_t> low, ::llvm::ArrayRef<int64_t> high);
  }];
}

def RN_SubsampleOp : RN_Op<"subsample", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<RN_GradientOpInterface>, DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "keeps every s-th row and column (x[:, :, ::sh, ::sw])";
  let description = [{
    ```mlir
    %y = rn.subsample %x {strides = array<i64: 2, 2>}
        : (tensor<8x16x32x32xf32>) -> tensor<8x16x16x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, DenseI64ArrayAttr:$strides);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input,
        ::llvm::ArrayRef<int64_t> strides);
  }];
}

def RN_FlattenOp : RN_Op<"flatten", [Pure, InferTypeOpAdaptor, RN_NoKernel,
    ViewLikeOpInterface, DeclareOpInterfaceMethods<RN_GradientOpInterface>,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "N x C x H x W -> N x (H * W * C), channels fastest (Keras order)";
  let description = [{
    Flattens each image in height, width, channel order, as Keras does; a
    dense layer after it therefore sees the same features as Keras's.

    ```mlir
    %y = rn.flatten %x : (tensor<8x64x2x2xf32>) -> tensor<8x256xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input);
  let results = (outs RN_Tensor2D:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    static ::mlir::FailureOr<::mlir::RankedTensorType> inferResultType(
        std::optional<::mlir::Location> loc, ::mlir::Type input);
    /// The memory order stays: the result is the input's memory.
    ::mlir::Value getViewSource() { return getInput(); }
  }];
}

//===----------------------------------------------------------------------===//
// Regularisation (identity outside training)
//===----------------------------------------------------------------------===//

def RN_DropoutOp : RN_Op<"dropout", [Pure, SameOperandsAndResultType, RN_NoKernel,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>,
    DeclareOpInterfaceMethods<RN_StepFormOpInterface>]> {
  let summary = "zeroes a fraction `rate` of elements while training";
  let description = [{
    Outside training it is the identity. While training each element is
    kept with probability `1 - rate` and scaled by `1 / (1 - rate)`.

    ```mlir
    %y = rn.dropout %x {rate = 5.0e-01 : f64} : tensor<8x256xf32>
    ```
  }];
  let arguments = (ins RN_Tensor:$input, F64Attr:$rate);
  let results = (outs RN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def RN_DropBlockOp : RN_Op<"dropblock", [Pure, SameOperandsAndResultType, RN_NoKernel,
    DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>,
    DeclareOpInterfaceMethods<RN_StepFormOpInterface>]> {
  let summary = "drops square blocks of a feature map while training";
  let description = [{
    DropBlock (Ghiasi et al. 2018): while training, zeroes `block_size` x
    `block_size` squares so that a fraction `rate` of each feature map is
    dropped, and rescales the rest; the identity otherwise.

    ```mlir
    %y = rn.dropblock %x {rate = 1.0e-01 : f64, block_size = 5 : i64}
        : tensor<8x128x16x16xf32>
    ```
  }];
  let arguments = (ins RN_Tensor4D:$input, F64Attr:$rate, I64Attr:$block_size);
  let results = (outs RN_Tensor4D:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

include "resnetc/Dialect/RN/IR/RNTrainOps.td"
include "resnetc/Dialect/RN/IR/RNActivations.td"
include "resnetc/Dialect/RN/IR/RNFusedOps.td"

#endif // RESNETC_DIALECT_RN_IR_RNOPS_TD
