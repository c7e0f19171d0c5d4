//===- Link.cpp - linking train with the system's C++ compiler driver -------===//
//
// The runtime is C++, so the C++ compiler driver links: it knows where the
// system's crt files, libstdc++ and the linker are.
//
//===----------------------------------------------------------------------===//

#include "resnetc/Driver/Link.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

using namespace resnetc;

std::string resnetc::findLinker() {
  if (const char *cxx = std::getenv("CXX"); cxx && *cxx) {
    if (auto path = llvm::sys::findProgramByName(cxx))
      return *path;
  }
  for (const char *name : {"c++", "g++", "clang++"})
    if (auto path = llvm::sys::findProgramByName(name))
      return *path;
  return "";
}

std::string resnetc::findRuntimeLibrary(const char *argv0,
                                        llvm::StringRef archive) {
  const char *variable = archive == "libresnetrt.a" ? "RESNETC_RUNTIME"
                         : archive == "libresnetrt-classify.a"
                             ? "RESNETC_RUNTIME_CLASSIFY"
                             : nullptr;
  if (const char *env = variable ? std::getenv(variable) : nullptr;
      env && *env)
    return llvm::sys::fs::exists(env) ? env : "";
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&findRuntimeLibrary));
  llvm::SmallString<256> path(llvm::sys::path::parent_path(exe));
  llvm::sys::path::append(path, "..", "lib", archive);
  return llvm::sys::fs::exists(path) ? std::string(path) : "";
}

std::optional<std::string> resnetc::link(const std::string &linker,
                                         const std::vector<std::string> &objects,
                                         const std::string &runtimeLibrary,
                                         const std::string &output,
                                         bool relocatable, bool verbose) {
  std::vector<std::string> args{linker, "-o", output};
  if (relocatable)
    args.insert(args.end(), {"-r", "-nostdlib"});
  args.insert(args.end(), objects.begin(), objects.end());
  if (!relocatable)
    args.insert(args.end(), {runtimeLibrary, "-lz", "-lpng", "-ljpeg",
                             "-lmpi", "-lpthread", "-ldl", "-lm"});

  llvm::SmallString<128> log;
  llvm::sys::fs::createTemporaryFile("resnetc-link", "log", log);
  std::vector<llvm::StringRef> argv(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, log.str(),
                                                log.str()};
  if (verbose) {
    for (const std::string &a : args)
      llvm::errs() << a << " ";
    llvm::errs() << "\n";
  }
  std::string error;
  int status = llvm::sys::ExecuteAndWait(linker, argv, std::nullopt,
                                         redirects, 0, 0, &error);
  auto text = llvm::MemoryBuffer::getFile(log);
  std::string linkerOutput = text ? (*text)->getBuffer().str() : "";
  llvm::sys::fs::remove(log);
  if (status == 0)
    return std::nullopt;
  std::string command;
  for (const std::string &a : args)
    command += a + " ";
  return "linking failed (" + (error.empty() ? "exit " + std::to_string(status) : error) +
         "):\n  " + command + "\n" + linkerOutput;
}
