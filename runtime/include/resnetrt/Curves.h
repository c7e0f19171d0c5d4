//===- Curves.h - learning curves as an SVG ---------------------*- C++ -*-===//
//
// curves.svg in the log directory: loss (left) and accuracy (right) per
// epoch, training, validation (with --validation-split) and test, as the
// seed tutorials plot history.history. Plain SVG 1.1 that browsers show and
// `rsvg-convert curves.svg -o curves.png` (Debian's librsvg2-bin) renders.
//
//===----------------------------------------------------------------------===//

#ifndef RESNETRT_CURVES_H
#define RESNETRT_CURVES_H

#include "resnetrt/RunLog.h"

#include <string>
#include <vector>

namespace resnetrt {

/// The SVG document for these epochs, in order of epoch.
std::string curvesSvg(const std::string &title,
                      const std::vector<EpochRecord> &epochs);

} // namespace resnetrt

#endif // RESNETRT_CURVES_H
