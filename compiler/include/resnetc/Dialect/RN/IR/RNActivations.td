//===- RNActivations.td - elementwise activations and their gradients -----===//
//
// Each activation is one `defm` line: the forward op, its backward op, its
// gradient (the backward op of dy and the saved input or result) and, where
// one ONNX node with the same attributes computes it, its ONNX export. A
// new activation adds its line here, its two kernels (Elementwise.cpp) and
// its DSL keyword (frontend Layers.cpp, kActivations).
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_DIALECT_RN_IR_RNACTIVATIONS_TD
#define RESNETC_DIALECT_RN_IR_RNACTIVATIONS_TD

include "resnetc/Dialect/RN/IR/RNBase.td"
include "resnetc/Dialect/RN/IR/RNInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

/// y = f(x), elementwise. `backward` is the C++ class of its backward op,
/// `saved` the tensor that op reads ("input" or "result"), `onnx` the ONNX
/// node (empty: the op writes its own exportToOnnx in RNOnnx.cpp). Every
/// floating-point attribute (`extraArgs`) must be finite.
class RN_ActivationOp<string mnemonic, string formula, string backward,
                      string saved, dag extraArgs, string attrExample,
                      string onnx>
    : RN_Op<mnemonic, [Pure, SameOperandsAndResultType,
                       DeclareOpInterfaceMethods<RN_GradientOpInterface>,
                       DeclareOpInterfaceMethods<RN_OnnxExportOpInterface>]> {
  let summary = "elementwise " # formula;
  let description = [{
    Applies `}] # formula # [{` to every element.

    ```mlir
    %y = rn.}] # mnemonic # [{ %x }] # attrExample # [{: tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = !con((ins RN_Tensor:$input), extraArgs);
  let results = (outs RN_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::rn::verifyActivation(*this);
    }
    ::llvm::LogicalResult $cppClass::buildGradient(
        ::mlir::OpBuilder &builder,
        ::llvm::ArrayRef<::mlir::Value> resultGradients, ::llvm::ArrayRef<bool>,
        ::llvm::MutableArrayRef<::mlir::Value> operandGradients) {
      return ::mlir::rn::activationGradient<}] # backward # [{>(
          *this, }] # !if(!eq(saved, "input"), "getInput", "getResult") # [{(),
          builder, resultGradients, operandGradients);
    }
  }] # !if(!empty(onnx), "", [{
    ::llvm::LogicalResult $cppClass::exportToOnnx(
        ::resnetc::OnnxGraphBuilder &builder) {
      return ::mlir::rn::exportActivation(builder, *this, "}] # onnx # [{");
    }
  }]);
}

/// dx from dy and one saved tensor of the forward op (its result or input).
class RN_ActivationBackwardOp<string mnemonic, string of, string saved,
                              dag extraArgs>
    : RN_Op<mnemonic, [Pure, AllTypesMatch<["output_gradient", "saved",
                                             "input_gradient"]>]> {
  let summary = "gradient of " # of;
  let description = [{
    Computes the input gradient from `dy` and the forward op's }] # saved #
    [{.

    ```mlir
    %dx = rn.}] # mnemonic # [{ %dy, %saved : tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = !con((ins RN_Tensor:$output_gradient, RN_Tensor:$saved),
                       extraArgs);
  let results = (outs RN_Tensor:$input_gradient);
  let assemblyFormat = [{
    $output_gradient `,` $saved attr-dict `:` type($input_gradient)
  }];
}

/// An activation: `defm RN_Name` defines RN_NameOp (rn.`mnemonic`) and
/// RN_NameBackwardOp (rn.`mnemonic`_backward), which takes the same
/// attributes.
multiclass RN_Activation<string mnemonic, string formula, string saved,
                         string onnx, dag extraArgs = (ins),
                         string attrExample = ""> {
  def Op : RN_ActivationOp<mnemonic, formula,
                           !subst("RN_", "", NAME) # "BackwardOp", saved,
                           extraArgs, attrExample, onnx>;
  def BackwardOp : RN_ActivationBackwardOp<mnemonic # "_backward",
                                           "rn." # mnemonic, saved, extraArgs>;
}

defm RN_Relu : RN_Activation<"relu", "max(x, 0)", "result", "Relu">;
defm RN_LeakyRelu : RN_Activation<"leaky_relu", "x > 0 ? x : alpha * x",
    "input", "LeakyRelu", (ins F64Attr:$alpha), "{alpha = 1.0e-01 : f64} ">;
defm RN_Sigmoid : RN_Activation<"sigmoid", "1 / (1 + exp(-x))", "result",
                                "Sigmoid">;
defm RN_Tanh : RN_Activation<"tanh", "tanh(x)", "result", "Tanh">;
defm RN_Elu : RN_Activation<"elu", "x > 0 ? x : alpha * (exp(x) - 1)", "input",
    "Elu", (ins F64Attr:$alpha), "{alpha = 1.0 : f64} ">;
// Opset 17 has no Gelu node: RNOnnx.cpp writes it out.
defm RN_Gelu : RN_Activation<"gelu", "x * Phi(x) (Gaussian CDF, exact erf form)",
                             "input", "">;

#endif // RESNETC_DIALECT_RN_IR_RNACTIVATIONS_TD
