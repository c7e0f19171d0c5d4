//===- RNBase.td - rn dialect definition and shared constraints -*- tablegen -*-===//
//
// The rn dialect is resnetc's graph of a residual network: value-semantics
// tensors with static shapes, one op per layer of the DSL. This file holds the
// dialect itself, the type constraints and the attributes its ops share.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNBASE_TD
#define RESNETC_DIALECT_RN_IR_RNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def RN_Dialect : Dialect {
  let name = "rn";
  let cppNamespace = "::mlir::rn";
  let summary = "Residual networks as static-shape tensor graphs";
  let description = [{
    The `rn` dialect holds the layers of a residual network as tensor ops with
    value semantics. Every tensor is a ranked `f32` tensor with a static shape;
    activations are NCHW (`tensor<N x C x H x W x f32>`), dense activations are
    `tensor<N x K x f32>`. The model's persistent state (weights, biases,
    BatchNorm statistics) lives in module-level `rn.variable` symbols that the
    graph reads with `rn.load`.
  }];
  let useDefaultAttributePrinterParser = 1;
}

class RN_Op<string mnemonic, list<Trait> traits = []>
    : Op<RN_Dialect, mnemonic, traits>;

// An op that runs no kernel: its result is where the memory plan put it
// (a variable, its load or store, a step parameter, a view), so lowering
// emits no call for it; or it never reaches a planned step (dropout's and
// DropBlock's forward-graph forms, rn.apply_gradients). Every other rn op
// runs as the kernel family of its name (Codegen/Kernels.h).
def RN_NoKernel : NativeOpTrait<"NoKernel"> {
  let cppNamespace = "::mlir::rn::OpTrait";
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def RN_Tensor : RankedTensorOf<[F32], [HasStaticShapePred],
                               "statically shaped f32 tensor">;
def RN_Tensor1D : RankedTensorOf<[F32], [HasStaticShapePred,
                                         HasAnyRankOfPred<[1]>],
                                 "statically shaped 1-D f32 tensor">;
def RN_Tensor2D : RankedTensorOf<[F32], [HasStaticShapePred,
                                         HasAnyRankOfPred<[2]>],
                                 "statically shaped 2-D f32 tensor">;
def RN_Tensor4D : RankedTensorOf<[F32], [HasStaticShapePred,
                                         HasAnyRankOfPred<[4]>],
                                 "statically shaped 4-D (NCHW) f32 tensor">;
def RN_Tensor2DOr4D : RankedTensorOf<[F32], [HasStaticShapePred,
                                             HasAnyRankOfPred<[2, 4]>],
                                     "statically shaped 2-D or 4-D f32 tensor">;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def RN_InitKind : I32EnumAttr<"InitKind", "how a variable is initialised", [
    I32EnumAttrCase<"zeros", 0>,
    I32EnumAttrCase<"ones", 1>,
    I32EnumAttrCase<"constant", 2>,
    I32EnumAttrCase<"normal", 3>,
    I32EnumAttrCase<"uniform", 4>,
    I32EnumAttrCase<"he_normal", 5>,
    I32EnumAttrCase<"he_uniform", 6>,
    I32EnumAttrCase<"glorot_normal", 7>,
    I32EnumAttrCase<"glorot_uniform", 8>,
    I32EnumAttrCase<"lecun_normal", 9>
  ]> {
  let cppNamespace = "::mlir::rn";
  let genSpecializedAttr = 0;
}

def RN_FanMode : I32EnumAttr<"FanMode", "which fan an initialiser scales by", [
    I32EnumAttrCase<"fan_in", 0>,
    I32EnumAttrCase<"fan_out", 1>,
    I32EnumAttrCase<"fan_avg", 2>
  ]> {
  let cppNamespace = "::mlir::rn";
  let genSpecializedAttr = 0;
}

def RN_InitAttr : AttrDef<RN_Dialect, "Init"> {
  let mnemonic = "init";
  let summary = "initialiser of a variable";
  let description = [{
    How a variable gets its first value. `value` (an `f64`) is the constant for
    `constant`, the standard deviation for `normal` and the half-width for
    `uniform`; the scaled initialisers (`he_*`, `glorot_*`, `lecun_normal`)
    compute theirs from the fan chosen by `mode` and the variable's shape.
    `seed` = -1 means "derive from the run's seed and the variable's name".

    ```mlir
    #rn.init<he_normal, mode = fan_out, seed = 7>
    #rn.init<constant, value = 1.0>
    ```
  }];
  let parameters = (ins
    EnumParameter<RN_InitKind>:$kind,
    OptionalParameter<"::mlir::FloatAttr">:$value,
    DefaultValuedParameter<"::mlir::rn::FanMode", "::mlir::rn::FanMode::fan_in">:$mode,
    DefaultValuedParameter<"int64_t", "-1">:$seed
  );
  let assemblyFormat = "`<` $kind (`,` struct($value, $mode, $seed)^)? `>`";
}

def RN_ArenaRegion : I32EnumAttr<"ArenaRegion", "the part of the arena a tensor is in", [
    I32EnumAttrCase<"fixed", 0>,
    I32EnumAttrCase<"per_sample", 1>
  ]> {
  let cppNamespace = "::mlir::rn";
  let genSpecializedAttr = 0;
}

def RN_SlotAttr : AttrDef<RN_Dialect, "Slot"> {
  let mnemonic = "slot";
  let summary = "where a tensor lives in the step's memory arena";
  let description = [{
    Set by `rn-plan-memory`. The arena is one allocation: a `fixed` region,
    then a `per_sample` region whose offsets and sizes scale with the batch.
    A tensor in slot `#rn.slot<fixed, o>` starts at byte `o` of the arena;
    one in `#rn.slot<per_sample, o>` at `fixed_bytes + batch * o`.

    ```mlir
    #rn.slot<per_sample, 12288>
    ```
  }];
  let parameters = (ins EnumParameter<RN_ArenaRegion>:$region, "int64_t":$offset);
  let assemblyFormat = "`<` $region `,` $offset `>`";
}

#endif // RESNETC_DIALECT_RN_IR_RNBASE_TD
