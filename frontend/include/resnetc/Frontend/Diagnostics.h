//===- Diagnostics.h - located errors for the DSL frontend -------*- C++ -*-===//
//
// The frontend reports every problem through MLIR's diagnostic engine at a
// FileLineColLoc of the model file, so the driver's SourceMgr handler prints
// `file:line:col: error: ...`, the source line and a caret under the column.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETC_FRONTEND_DIAGNOSTICS_H
#define RESNETC_FRONTEND_DIAGNOSTICS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"

namespace resnetc {

/// A 1-based line and column (in bytes) of the model file.
struct SourceLoc {
  unsigned line = 1;
  unsigned col = 1;
};

/// Turns SourceLocs of one file into MLIR locations and diagnostics.
class Diagnostics {
public:
  Diagnostics(mlir::MLIRContext &context, llvm::StringRef filename)
      : context(context), filename(mlir::StringAttr::get(&context, filename)) {}

  mlir::Location loc(SourceLoc at) const {
    return mlir::FileLineColLoc::get(filename, at.line, at.col);
  }
  mlir::InFlightDiagnostic error(SourceLoc at) const {
    return mlir::emitError(loc(at));
  }
  mlir::MLIRContext &getContext() const { return context; }
  llvm::StringRef getFilename() const { return filename.getValue(); }

private:
  mlir::MLIRContext &context;
  mlir::StringAttr filename;
};

} // namespace resnetc

#endif // RESNETC_FRONTEND_DIAGNOSTICS_H
