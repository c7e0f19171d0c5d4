//===- OnnxModel.cpp - an OnnxGraph and its weights as an ONNX file -------===//
//
// The one file that sees protobuf. The weights come through the runtime's
// safetensors reader and its check (resnetrt/Safetensors.h), so that
// `--emit=onnx --weights` accepts exactly the files `train --init-from`
// accepts, with the same messages.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Export/OnnxExport.h"

#include "resnetrt/Error.h"
#include "resnetrt/File.h"
#include "resnetrt/Safetensors.h"

#include <onnx/onnx_pb.h>

#include <cstdio>

namespace {

/// ONNX 1.12's IR version, the one that goes with opset 17.
constexpr int64_t irVersion = 8;
constexpr int64_t opsetVersion = 17;

/// `shape` as a tensor type, its first dimension the symbolic `batch`.
void setBatchedType(onnx::ValueInfoProto &info,
                    const resnetc::OnnxValueInfo &value) {
  info.set_name(value.name);
  info.set_doc_string(value.doc);
  onnx::TypeProto::Tensor *tensor = info.mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (size_t d = 0; d < value.shape.size(); ++d) {
    onnx::TensorShapeProto::Dimension *dim = tensor->mutable_shape()->add_dim();
    if (d == 0)
      dim->set_dim_param("batch");
    else
      dim->set_dim_value(value.shape[d]);
  }
}

void addAttribute(onnx::NodeProto &node, const resnetc::OnnxAttribute &attr) {
  onnx::AttributeProto *proto = node.add_attribute();
  proto->set_name(attr.name);
  if (const auto *i = std::get_if<int64_t>(&attr.value)) {
    proto->set_type(onnx::AttributeProto::INT);
    proto->set_i(*i);
  } else if (const auto *f = std::get_if<float>(&attr.value)) {
    proto->set_type(onnx::AttributeProto::FLOAT);
    proto->set_f(*f);
  } else {
    proto->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : std::get<std::vector<int64_t>>(attr.value))
      proto->add_ints(v);
  }
}

/// The model: nodes, constants, and the weights of the variables the graph
/// reads as initializers. Throws an Error for weights that do not fit.
onnx::ModelProto buildModel(const resnetc::OnnxGraph &graph,
                            const std::string &weightsPath) {
  resnetrt::Safetensors weights = resnetrt::readSafetensors(weightsPath);
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const resnetc::OnnxVariable &variable : graph.variables)
    expected.emplace_back(variable.name, variable.shape);
  resnetrt::checkWeights(weightsPath, graph.name, weights, expected);

  onnx::ModelProto model;
  model.set_ir_version(irVersion);
  model.add_opset_import()->set_version(opsetVersion);
  model.set_producer_name("resnetc");
  model.set_producer_version(RESNETC_VERSION);
  model.set_doc_string(graph.doc);
  onnx::GraphProto *proto = model.mutable_graph();
  proto->set_name(graph.name);
  for (const resnetc::OnnxValueInfo &input : graph.inputs)
    setBatchedType(*proto->add_input(), input);
  for (const resnetc::OnnxValueInfo &output : graph.outputs)
    setBatchedType(*proto->add_output(), output);
  for (const resnetc::OnnxNode &node : graph.nodes) {
    onnx::NodeProto *n = proto->add_node();
    n->set_op_type(node.opType);
    n->set_name(node.name);
    for (const std::string &input : node.inputs)
      n->add_input(input);
    for (const std::string &output : node.outputs)
      n->add_output(output);
    for (const resnetc::OnnxAttribute &attr : node.attributes)
      addAttribute(*n, attr);
  }
  for (const resnetc::OnnxVariable &variable : graph.variables) {
    if (!variable.read)
      continue;
    const resnetrt::StoredTensor &stored = weights.tensors.at(variable.name);
    onnx::TensorProto *tensor = proto->add_initializer();
    tensor->set_name(variable.name);
    tensor->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t extent : variable.shape)
      tensor->add_dims(extent);
    // Both little-endian F32, row-major: the bytes as they are.
    tensor->set_raw_data(stored.data.data(), stored.data.size());
  }
  for (const resnetc::OnnxConstant &constant : graph.constants) {
    onnx::TensorProto *tensor = proto->add_initializer();
    tensor->set_name(constant.name);
    for (int64_t extent : constant.shape)
      tensor->add_dims(extent);
    if (constant.floats.empty()) {
      tensor->set_data_type(onnx::TensorProto::INT64);
      for (int64_t v : constant.ints)
        tensor->add_int64_data(v);
    } else {
      tensor->set_data_type(onnx::TensorProto::FLOAT);
      for (float v : constant.floats)
        tensor->add_float_data(v);
    }
  }
  return model;
}

} // namespace

std::optional<std::string>
resnetc::writeOnnxModel(const OnnxGraph &graph, const std::string &weightsPath,
                        const std::string &outputPath) {
  try {
    onnx::ModelProto model = buildModel(graph, weightsPath);
    std::string bytes;
    // Protobuf's limit on one message: a model past it needs ONNX's
    // external data, which this export does not write.
    if (model.ByteSizeLong() > size_t(INT32_MAX) ||
        !model.SerializeToString(&bytes))
      return "the model is too large for one ONNX file (2 GiB)";
    if (outputPath != "-")
      resnetrt::writeFileAtomically(outputPath, bytes, "ONNX model");
    else if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) !=
                 bytes.size() ||
             std::fflush(stdout) != 0)
      return "cannot write the ONNX model to standard output";
  } catch (const resnetrt::Error &error) {
    return std::string(error.what());
  }
  return std::nullopt;
}
