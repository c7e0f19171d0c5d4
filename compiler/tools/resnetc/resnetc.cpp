//===- resnetc.cpp - the resnetc compiler driver ----------------------------===//
//
// resnetc model.dsl -o train builds a standalone training program:
//
//   parse -> elaborate (rn forward graph) -> rn-build-train-step ->
//   rn-fuse-conv-bn-relu -> rn-autodiff -> rn-optimizer -> rn-plan-memory ->
//   one Halide kernel per distinct op (compiled in parallel, cached on disk)
//   -> rn-lower-to-llvm -> step object with the program table -> link with
//   libresnetrt (train) or libresnetrt-classify (--mode=infer: classify).
//
// --emit stops after any stage and prints it; --emit=onnx writes the
// inference graph with the weights of --weights as an ONNX model. Every
// error in the model file is printed as file:line:col with the source line
// and a caret; user errors exit with 1.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Analysis/MemoryReport.h"
#include "resnetc/Analysis/ModelSummary.h"
#include "resnetc/Codegen/KernelCall.h"
#include "resnetc/Codegen/KernelCompiler.h"
#include "resnetc/Codegen/KernelTraffic.h"
#include "resnetc/Codegen/Passes.h"
#include "resnetc/Codegen/ProgramObject.h"
#include "resnetc/Dialect/RN/IR/RNOps.h"
#include "resnetc/Driver/Link.h"
#include "resnetc/Driver/Pipeline.h"
#include "resnetc/Export/OnnxExport.h"
#include "resnetc/Frontend/Elaborator.h"
#include "resnetc/Frontend/Parser.h"
#include "resnetc/Frontend/Source.h"
#include "resnetc/InitAll.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstdlib>
#include <set>

using namespace resnetc;
namespace cl = llvm::cl;

namespace {

cl::OptionCategory resnetcOptions("resnetc options");

cl::opt<std::string> inputFilename(cl::Positional, cl::desc("<model.dsl>"),
                                   cl::Required, cl::cat(resnetcOptions));

cl::opt<std::string> outputFilename(
    "o",
    cl::desc("Output file (default: ./train, ./classify with --mode=infer, "
             "model.o with -c, model.onnx with --emit=onnx, "
             "standard output for the other --emit stages)"),
    cl::value_desc("file"), cl::cat(resnetcOptions));

enum class Emit {
  Program, AST, MLIR, Onnx, Train, Memory, Halide, PTX, LLVM, Obj
};
cl::opt<Emit> emit(
    "emit", cl::desc("Stop after a stage and print it"),
    cl::init(Emit::Program),
    cl::values(
        clEnumValN(Emit::AST, "ast", "the syntax tree of the file"),
        clEnumValN(Emit::MLIR, "mlir", "the model as an rn forward graph"),
        clEnumValN(Emit::Onnx, "onnx",
                   "the inference graph as an ONNX model (opset 17) with "
                   "the weights of --weights, to model.onnx; the same "
                   "graph whatever --mode"),
        clEnumValN(Emit::Train, "train",
                   "the planned training and evaluation steps (rn dialect)"),
        clEnumValN(Emit::Memory, "memory",
                   "the memory plan: every buffer of the steps and the arena"),
        clEnumValN(Emit::Halide, "halide",
                   "each distinct kernel's lowered Halide statement"),
        clEnumValN(Emit::PTX, "ptx",
                   "each distinct kernel's PTX (with --target=cuda)"),
        clEnumValN(Emit::LLVM, "llvm", "the step functions as LLVM IR"),
        clEnumValN(Emit::Obj, "obj",
                   "one relocatable object (step, kernels, Halide runtime), "
                   "not linked; same as -c")),
    cl::cat(resnetcOptions));

enum class Mode { Train, Infer };
cl::opt<Mode> mode(
    "mode", cl::desc("What program to build"), cl::init(Mode::Train),
    cl::values(clEnumValN(Mode::Train, "train",
                          "./train: trains the model (default)"),
               clEnumValN(Mode::Infer, "infer",
                          "./classify: loads a checkpoint of train and "
                          "classifies a dataset's images with the inference "
                          "kernels (BatchNorm folded into the convs)")),
    cl::cat(resnetcOptions));

cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("The trained weights --emit=onnx puts in the model: a "
             "safetensors file of ./train --export=FILE or ./classify "
             "--checkpoint=C --export=FILE"),
    cl::value_desc("file"), cl::cat(resnetcOptions));

cl::opt<bool> noFusion(
    "no-fusion",
    cl::desc("Run every conv, BatchNorm, add and ReLU as a kernel of its own "
             "(skip rn-fuse-conv-bn-relu)"),
    cl::init(false), cl::cat(resnetcOptions));

cl::opt<bool> syncBatchNorm(
    "sync-batch-norm",
    cl::desc("Synchronised BatchNorm: under mpirun, training BatchNorm "
             "normalises with the statistics of the global batch, summed "
             "over the ranks, so K ranks compute one process's step (up to "
             "float32 rounding; its BatchNorm is not fused with the "
             "convs)"),
    cl::init(false), cl::cat(resnetcOptions));

cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Print what rn-fuse-conv-bn-relu does with each layer, and the "
             "kernels and bytes moved per step with and without fusion, "
             "then stop"),
    cl::init(false), cl::cat(resnetcOptions));

cl::opt<bool> compileOnly("c", cl::desc("Stop before linking (--emit=obj)"),
                          cl::cat(resnetcOptions));

cl::opt<bool> printSummaryTable(
    "summary",
    cl::desc("Print a Keras-style table of the model (layers, output shapes, "
             "parameters), its multiply-adds, activation memory and the "
             "training step's memory, then stop"),
    cl::cat(resnetcOptions));

cl::opt<int64_t> batchOverride(
    "batch",
    cl::desc("Batch size the graph is compiled for (default: the train "
             "block's `batch`, else 128)"),
    cl::value_desc("n"), cl::init(0), cl::cat(resnetcOptions));

cl::opt<std::string> targetName(
    "target",
    cl::desc("What the kernels run on: cpu (x86-64: AVX-512 if this machine "
             "has it, else AVX2; also avx512, avx2), cuda (NVIDIA GPUs, "
             "compute capability 8.0 and later), opencl (the same GPU "
             "schedules through OpenCL, e.g. pocl on the CPU: for tests), "
             "or a Halide target string"),
    cl::value_desc("name"), cl::init("cpu"), cl::cat(resnetcOptions));

cl::opt<kernels::Scheduler> scheduler(
    "scheduler", cl::desc("How kernels are scheduled"),
    cl::init(kernels::Scheduler::Hand),
    cl::values(
        clEnumValN(kernels::Scheduler::Hand, "hand",
                   "resnetc's hand-written schedules (default)"),
        clEnumValN(kernels::Scheduler::Adams2019, "adams2019",
                   "Halide's Adams2019 autoscheduler"),
        clEnumValN(kernels::Scheduler::Li2018, "li2018",
                   "Halide's Li2018 autoscheduler"),
        clEnumValN(kernels::Scheduler::Mullapudi2016, "mullapudi2016",
                   "Halide's Mullapudi2016 autoscheduler")),
    cl::cat(resnetcOptions));

cl::opt<unsigned> jobs("j",
                       cl::desc("Kernels compiled at once (default: one per "
                                "hardware thread)"),
                       cl::value_desc("n"), cl::init(0), cl::cat(resnetcOptions));

cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Where compiled kernels are kept (default: $RESNETC_CACHE_DIR, "
             "else $XDG_CACHE_HOME/resnetc, else ~/.cache/resnetc)"),
    cl::value_desc("dir"), cl::cat(resnetcOptions));

cl::opt<bool> noMemoryReuse(
    "no-memory-reuse",
    cl::desc("Give every tensor of the step its own bytes, so all are still "
             "in the arena after a step (debugging; a larger arena)"),
    cl::init(false), cl::cat(resnetcOptions));

cl::opt<bool> noCache("no-cache",
                      cl::desc("Compile every kernel, reading and writing no "
                               "cache"),
                      cl::cat(resnetcOptions));

cl::opt<bool> timeReport(
    "time-report",
    cl::desc("Print where the compile's time went (front end, each pass, "
             "kernels compiled and from the cache, step object, link) on "
             "standard error at the end"),
    cl::cat(resnetcOptions));

cl::opt<bool> verbose("v", cl::desc("Print the link command"),
                      cl::cat(resnetcOptions));

/// A user error: the message is printed as `resnetc: error: ...`.
int fail(const llvm::Twine &message) {
  llvm::errs() << "resnetc: error: " << message << "\n";
  return 1;
}

std::string defaultCacheDir() {
  for (const char *var : {"RESNETC_CACHE_DIR", "XDG_CACHE_HOME", "HOME"}) {
    const char *value = std::getenv(var);
    if (!value || !*value)
      continue;
    llvm::SmallString<256> dir(value);
    if (llvm::StringRef(var) == "XDG_CACHE_HOME")
      llvm::sys::path::append(dir, "resnetc");
    else if (llvm::StringRef(var) == "HOME")
      llvm::sys::path::append(dir, ".cache", "resnetc");
    return std::string(dir);
  }
  return "";
}

/// Identifies this resnetc build: a rebuilt compiler never reuses the
/// kernels an older one cached.
std::string compilerId(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&compilerId));
  llvm::sys::fs::file_status status;
  if (llvm::sys::fs::status(exe, status))
    return RESNETC_VERSION;
  return std::string(RESNETC_VERSION) + "|" + exe + "|" +
         std::to_string(status.getSize()) + "|" +
         std::to_string(status.getLastModificationTime().time_since_epoch().count());
}

/// The functions of a planned module that run kernels.
const llvm::StringLiteral stepNames[] = {mlir::rn::kTrainStep,
                                         mlir::rn::kEvalStep,
                                         mlir::rn::kPrepareEval};

/// Every kernel call of the planned steps the program runs, in program
/// order (classify never trains).
mlir::FailureOr<std::vector<kernels::KernelSpec>>
collectKernels(mlir::ModuleOp planned, bool training) {
  std::vector<kernels::KernelSpec> specs;
  for (llvm::StringRef name : stepNames) {
    auto step = planned.lookupSymbol<mlir::func::FuncOp>(name);
    if (!step || (!training && name == mlir::rn::kTrainStep))
      continue;
    mlir::WalkResult walk = step.walk([&](KernelOpInterface op) {
      mlir::FailureOr<KernelCall> call = op.getKernelCall();
      if (mlir::failed(call))
        return mlir::WalkResult::interrupt();
      specs.push_back(call->spec);
      return mlir::WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return mlir::failure();
  }
  return specs;
}

/// Kernels and bytes moved per call of each step, fused against unfused.
int printFusionReport(mlir::ModuleOp fused, mlir::ModuleOp unfused,
                      llvm::raw_ostream &os) {
  os << "Kernels and bytes moved per call (at the compiled batch), "
        "without and with fusion:\n";
  os << "  step             unfused     fused   MiB unfused     MiB fused\n";
  for (llvm::StringRef name : stepNames) {
    StepTraffic before, after;
    for (auto [module, traffic] :
         {std::pair{unfused, &before}, std::pair{fused, &after}}) {
      auto step = module.lookupSymbol<mlir::func::FuncOp>(name);
      if (!step)
        continue;
      mlir::FailureOr<StepTraffic> counted = stepTraffic(step);
      if (mlir::failed(counted))
        return 1;
      *traffic = *counted;
    }
    if (!before.kernels && !after.kernels)
      continue;
    os << llvm::format("  %-14s %9lld %9lld %13.1f %13.1f\n",
                       name.str().c_str(), (long long)before.kernels,
                       (long long)after.kernels, before.bytes / 1048576.0,
                       after.bytes / 1048576.0);
  }
  return 0;
}

/// Each stage of run() either ends the invocation, with its exit status,
/// or leaves the rest to the next stage (nullopt).
using Outcome = std::optional<int>;

/// What the command line asks for, its flags checked against each other.
struct Request {
  std::string output; ///< a path, or "-" for standard output
  bool toFile;        ///< a program, object or ONNX file, not text
  std::string target, deviceApi;
};

Outcome checkRequest(Request &request) {
  if (compileOnly)
    emit = Emit::Obj;
  if (emit == Emit::Onnx && weightsFile.empty())
    return fail("--emit=onnx needs the trained weights: add "
                "--weights=FILE.safetensors (from ./train --export=FILE, or "
                "./classify --checkpoint=C --export=FILE)");
  if (emit != Emit::Onnx && !weightsFile.empty())
    return fail("--weights is read by --emit=onnx only");
  request.toFile =
      emit == Emit::Program || emit == Emit::Obj || emit == Emit::Onnx;
  request.output = outputFilename;
  if (request.output.empty())
    request.output =
        emit == Emit::Program ? (mode == Mode::Infer ? "classify" : "train")
        : emit == Emit::Obj
            ? llvm::sys::path::stem(inputFilename).str() + ".o"
        : emit == Emit::Onnx
            ? llvm::sys::path::stem(inputFilename).str() + ".onnx"
            : "-";
  if (batchOverride < 0 || batchOverride > 65536)
    return fail("--batch must be from 1 to 65536, got " +
                llvm::Twine(batchOverride));
  request.target = kernels::resolveTarget(targetName);
  if (request.target.empty())
    return fail("unknown --target '" + targetName +
                "'; use cpu, cuda, opencl, avx512, avx2 or a Halide target "
                "string");
  request.deviceApi = kernels::deviceApi(request.target);
  if (!request.deviceApi.empty() && scheduler != kernels::Scheduler::Hand)
    return fail("Halide's autoschedulers build CPU kernels only; use "
                "--scheduler=hand (the default) with --target=" +
                targetName);
  if (emit == Emit::PTX && request.deviceApi != "cuda")
    return fail("--emit=ptx prints CUDA kernels; add --target=cuda");
  return std::nullopt;
}

/// Writes `print`'s text to the output file and keeps it.
int writeText(llvm::ToolOutputFile &text,
              llvm::function_ref<void(llvm::raw_ostream &)> print) {
  print(text.os());
  text.keep();
  return 0;
}

/// --emit=mlir and --emit=onnx stop at the forward graph.
Outcome emitForwardGraph(mlir::ModuleOp module, const Request &request,
                         llvm::ToolOutputFile *text) {
  if (emit == Emit::MLIR)
    return writeText(*text, [&](llvm::raw_ostream &os) {
      module.print(os);
      os << "\n";
    });
  if (emit == Emit::Onnx) {
    mlir::FailureOr<OnnxGraph> graph = buildOnnxGraph(module);
    if (mlir::failed(graph))
      return 1;
    if (std::optional<std::string> error =
            writeOnnxModel(*graph, weightsFile, request.output))
      return fail(*error);
    return 0;
  }
  return std::nullopt;
}

/// Runs the training pipeline on `module` (the forward graph); with
/// --fusion-report, prints the kernels and bytes each step moves with and
/// without fusion instead.
Outcome planProgram(mlir::MLIRContext &context, mlir::ModuleOp module,
                    const Request &request, llvm::raw_ostream &report,
                    mlir::TimingScope &timing) {
  mlir::OwningOpRef<mlir::ModuleOp> unfused;
  if (fusionReport)
    unfused = module.clone();
  PipelineOptions pipeline;
  pipeline.reuseMemory = !noMemoryReuse;
  pipeline.fuse = !noFusion;
  pipeline.syncBatchNorm = syncBatchNorm;
  pipeline.fusionReport = fusionReport;
  pipeline.gpu = !request.deviceApi.empty();
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return 1;
  buildTrainingPipeline(pm, pipeline);
  mlir::TimingScope passes = timing.nest("passes");
  pm.enableTiming(passes);
  if (mlir::failed(pm.run(module)))
    return 1;
  passes.stop();
  if (!fusionReport)
    return std::nullopt;
  mlir::PassManager plain(&context);
  pipeline.fuse = false;
  buildTrainingPipeline(plain, pipeline);
  if (mlir::failed(plain.run(*unfused)))
    return 1;
  return printFusionReport(module, *unfused, report);
}

/// --summary, --emit=train and --emit=memory stop at the planned program.
Outcome emitPlanned(mlir::ModuleOp planned,
                    const std::optional<ModelSummary> &summary,
                    llvm::ToolOutputFile *text) {
  if (summary) {
    llvm::raw_ostream &os = text ? text->os() : llvm::outs();
    printSummary(*summary, os);
    printArenaLine(*arenaSize(planned), summary->batch, os);
    if (text)
      text->keep();
    return 0;
  }
  if (emit == Emit::Train)
    return writeText(*text, [&](llvm::raw_ostream &os) { planned.print(os); });
  if (emit == Emit::Memory) {
    if (mlir::failed(printMemoryPlan(planned, text->os())))
      return 1;
    text->keep();
    return 0;
  }
  return std::nullopt;
}

/// --emit=halide and --emit=ptx print each distinct kernel once.
int printKernels(const std::vector<kernels::KernelSpec> &specs,
                 const kernels::CompileOptions &compile,
                 llvm::ToolOutputFile &text) {
  std::set<std::string> printed;
  for (const kernels::KernelSpec &spec : specs) {
    if (!printed.insert(spec.symbolName()).second)
      continue;
    text.os() << "// " << spec.symbolName() << ": " << spec.key() << "\n"
              << (emit == Emit::PTX ? kernels::deviceCode(spec, compile)
                                    : kernels::loweredStatement(spec, compile))
              << "\n";
  }
  text.keep();
  return 0;
}

/// Compiles the kernels (with a progress count on a terminal) and links
/// them, the lowered steps and the runtime into `request.output`.
int linkProgram(mlir::ModuleOp lowered, const ProgramInfo &info,
                const std::vector<kernels::KernelSpec> &specs,
                kernels::CompileOptions compile, const Request &request,
                const char *argv0, mlir::TimingScope &timing) {
  // Object files go to a scratch directory that is removed at the end.
  llvm::SmallString<128> scratch;
  if (llvm::sys::fs::createUniqueDirectory("resnetc", scratch))
    return fail("cannot create a temporary directory");
  auto cleanup = llvm::make_scope_exit(
      [&] { llvm::sys::fs::remove_directories(scratch); });
  compile.workDir = std::string(scratch) + "/kernels";
  compile.cacheDir = noCache ? "" : cacheDir.empty() ? defaultCacheDir()
                                                     : std::string(cacheDir);
  bool terminal = llvm::sys::Process::StandardErrIsDisplayed();
  mlir::TimingScope kernelTime = timing.nest("kernels");
  kernels::CompiledKernels kernelObjects = kernels::compileKernels(
      specs, compile, [&](size_t done, size_t total) {
        if (terminal)
          llvm::errs() << "\rresnetc: compiling kernels " << done << "/"
                       << total;
      });
  if (terminal)
    llvm::errs() << "\r\033[K";
  kernelTime.stop();
  if (kernelObjects.error)
    return fail(*kernelObjects.error);

  std::string stepObject = std::string(scratch) + "/step.o";
  mlir::TimingScope objectTime = timing.nest("step object (LLVM)");
  if (mlir::failed(emitProgramObject(lowered, info, stepObject, false)))
    return 1;
  objectTime.stop();
  std::vector<std::string> objects{stepObject};
  objects.insert(objects.end(), kernelObjects.objects.begin(),
                 kernelObjects.objects.end());
  std::string linker = findLinker();
  if (linker.empty())
    return fail("no C++ compiler to link with (looked for $CXX, c++, g++, "
                "clang++); install g++");
  std::string runtime;
  if (emit == Emit::Program) {
    const char *archive =
        mode == Mode::Infer ? "libresnetrt-classify.a" : "libresnetrt.a";
    runtime = findRuntimeLibrary(argv0, archive);
    if (runtime.empty())
      return fail(llvm::Twine("cannot find ") + archive +
                  " next to resnetc (in ../lib)" +
                  (mode == Mode::Infer ? ""
                                       : "; set RESNETC_RUNTIME to its path"));
  }
  mlir::TimingScope linkTime = timing.nest("link");
  if (std::optional<std::string> error =
          link(linker, objects, runtime, request.output, emit == Emit::Obj,
               verbose))
    return fail(*error);
  linkTime.stop();
  llvm::errs() << "resnetc: " << info.modelName << ": "
               << kernelObjects.distinct << " kernels ("
               << kernelObjects.fromCache << " cached) built in "
               << llvm::format("%.1f", kernelObjects.seconds) << " s, "
               << (mode == Mode::Train ? info.trainKernels : info.evalKernels)
               << (mode == Mode::Train ? " calls per training step"
                                       : " calls per evaluation batch")
               << "; wrote " << request.output << "\n";
  return 0;
}

/// From the planned program: its kernels printed (--emit=halide, ptx), its
/// steps lowered (--emit=llvm), or both built into a program or object.
int buildProgram(mlir::MLIRContext &context, mlir::ModuleOp planned,
                 const Request &request, llvm::ToolOutputFile *text,
                 const char *argv0, mlir::TimingScope &timing) {
  mlir::FailureOr<std::vector<kernels::KernelSpec>> specs =
      collectKernels(planned, mode == Mode::Train);
  if (mlir::failed(specs))
    return 1;
  kernels::CompileOptions compile;
  compile.target = request.target;
  compile.scheduler = scheduler;
  compile.jobs = jobs;
  compile.compilerId = compilerId(argv0);
  if (emit == Emit::Halide || emit == Emit::PTX)
    return printKernels(*specs, compile, *text);

  mlir::FailureOr<ProgramInfo> info = collectProgramInfo(planned);
  if (mlir::failed(info))
    return 1;
  info->target = request.target;
  info->deviceApi = request.deviceApi;
  info->fingerprint = programFingerprint(planned, request.target,
                                         kernels::schedulerName(scheduler));
  if (mode == Mode::Infer)
    info->trainKernels = 0; // its train_step is a stub
  mlir::PassManager lower(&context);
  if (mlir::failed(mlir::applyPassManagerCLOptions(lower)))
    return 1;
  lower.addPass(createLowerToLLVM({/*trainStep=*/mode == Mode::Train,
                                   /*device=*/!request.deviceApi.empty()}));
  mlir::TimingScope lowering = timing.nest("lowering");
  lower.enableTiming(lowering);
  if (mlir::failed(lower.run(planned)))
    return 1;
  lowering.stop();
  if (emit == Emit::LLVM) {
    text->keep();
    return mlir::failed(
        emitProgramObject(planned, *info, request.output, true));
  }
  return linkProgram(planned, *info, *specs, compile, request, argv0, timing);
}

/// resnetc's whole invocation: the model file through each stage until the
/// one --emit asks for.
int run(mlir::MLIRContext &context, llvm::SourceMgr &sourceMgr,
        const char *argv0) {
  Request request;
  if (Outcome done = checkRequest(request))
    return *done;
  // --time-report: MLIR's timing manager prints the tree of scopes when it
  // goes, after the last stage.
  mlir::DefaultTimingManager timingManager;
  timingManager.setEnabled(timeReport);
  mlir::TimingScope timing = timingManager.getRootScope();
  std::string displayName =
      inputFilename == "-" ? std::string("<stdin>") : inputFilename;
  Diagnostics diags(context, displayName);
  std::optional<llvm::StringRef> source =
      loadModelFile(inputFilename, sourceMgr, diags);
  if (!source)
    return 1;
  std::unique_ptr<llvm::ToolOutputFile> text;
  if (!request.toFile) {
    std::string errorMessage;
    text = mlir::openOutputFile(request.output, &errorMessage);
    if (!text)
      return fail(errorMessage);
  }

  mlir::TimingScope frontEnd = timing.nest("front end");
  std::unique_ptr<ast::File> file = parseFile(*source, diags);
  if (!file)
    return 1;
  if (emit == Emit::AST)
    return writeText(*text,
                     [&](llvm::raw_ostream &os) { ast::dump(*file, os); });
  ElaborateOptions options;
  if (batchOverride > 0)
    options.batch = batchOverride;
  mlir::OwningOpRef<mlir::ModuleOp> module = elaborate(*file, diags, options);
  if (!module)
    return 1;
  frontEnd.stop();
  std::optional<ModelSummary> summary;
  if (printSummaryTable) {
    mlir::FailureOr<ModelSummary> table = summarize(*module);
    if (mlir::failed(table))
      return 1;
    summary = *table;
  }
  if (Outcome done = emitForwardGraph(*module, request, text.get()))
    return *done;

  if (Outcome done = planProgram(context, *module, request,
                                 text ? text->os() : llvm::outs(), timing)) {
    if (*done == 0 && text)
      text->keep();
    return *done;
  }
  if (Outcome done = emitPlanned(*module, summary, text.get()))
    return *done;
  return buildProgram(context, *module, request, text.get(), argv0, timing);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  // --help lists resnetc's options and MLIR's IR printing ones, not every
  // option of the LLVM backends linked in.
  static cl::OptionCategory irOptions("IR inspection options (MLIR)");
  for (auto &[name, option] : cl::getRegisteredOptions())
    if (name.starts_with("mlir-print-ir") || name == "mlir-print-debuginfo" ||
        name == "mlir-timing")
      option->addCategory(irOptions);
  cl::HideUnrelatedOptions({&resnetcOptions, &irOptions});
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "resnetc " RESNETC_VERSION "\n"
       << "  built with MLIR " LLVM_VERSION_STRING ", Halide 14\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "resnetc: compiles a residual network written in the resnetc DSL into "
      "a standalone training program\n\n"
      "  resnetc model.dsl -o train      build ./train (run ./train --help)\n"
      "  resnetc --mode=infer model.dsl  build ./classify for train's "
      "checkpoints\n"
      "  resnetc model.dsl --fusion-report  what fusion does, layer by layer\n"
      "  resnetc model.dsl --summary     layers, parameters, FLOPs, memory\n"
      "  resnetc model.dsl --target=cuda -o train  build it for an NVIDIA "
      "GPU\n"
      "  resnetc model.dsl --emit=STAGE  print a stage (ast, mlir, train, "
      "memory, halide, ptx, llvm)\n"
      "  resnetc --mode=infer model.dsl --emit=onnx --weights=w.safetensors "
      "-o model.onnx\n"
      "                                  the trained model as ONNX\n");

  mlir::DialectRegistry registry;
  registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  context.disableMultithreading(); // kernels compile on their own threads
  context.printOpOnDiagnostic(false); // remarks point at the DSL line
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  return run(context, sourceMgr, argv[0]);
}
