//===- Curves.cpp - learning curves as an SVG -----------------------------===//

#include "resnetrt/Curves.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace resnetrt {

namespace {

/// One line of a chart: a value per epoch, where there is one.
struct Series {
  const char *name, *color;
  std::vector<std::pair<double, double>> points; ///< (epoch, value)
};

/// A step between axis ticks: 1, 2 or 5 times a power of ten, about a
/// fifth of `range`.
double tickStep(double range) {
  double magnitude = std::pow(10, std::floor(std::log10(range / 5)));
  for (double factor : {1, 2, 5})
    if (factor * magnitude * 5 >= range)
      return factor * magnitude;
  return 10 * magnitude;
}

std::string escape(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

/// Draws one chart with its axes, ticks, labels and legend at (x0, y0).
void chart(std::string &svg, double x0, double y0, const std::string &yLabel,
           const std::vector<Series> &series, bool fromZero) {
  const double width = 380, height = 260; // the plot area
  double lastEpoch = 1, low = INFINITY, high = -INFINITY;
  for (const Series &s : series)
    for (auto [epoch, value] : s.points) {
      lastEpoch = std::max(lastEpoch, epoch);
      low = std::min(low, value);
      high = std::max(high, value);
    }
  if (!std::isfinite(low)) // no finite value at all
    low = 0, high = 1;
  if (fromZero)
    low = std::min(low, 0.0);
  double yStep = tickStep(std::max(high - low, 1e-6));
  low = std::floor(low / yStep) * yStep;
  high = std::max(std::ceil(high / yStep) * yStep, low + yStep);
  double xStep = std::max(1.0, std::ceil(tickStep(std::max(lastEpoch, 5.0))));
  double xLow = lastEpoch > 1 ? 1 : 0.5, xHigh = lastEpoch > 1 ? lastEpoch : 1.5;
  auto px = [&](double epoch) {
    return x0 + (epoch - xLow) / (xHigh - xLow) * width;
  };
  auto py = [&](double value) {
    return y0 + height - (value - low) / (high - low) * height;
  };

  svg += fmt::format("<g class=\"chart\" id=\"{}\">\n", yLabel);
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                     "fill=\"none\" stroke=\"#888\"/>\n",
                     x0, y0, width, height);
  for (double v = low; v <= high + yStep / 2; v += yStep) {
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" "
                       "y2=\"{1:.1f}\" stroke=\"#ddd\"/>\n",
                       x0, py(v), x0 + width);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}"
                       "</text>\n",
                       x0 - 6, py(v) + 4, std::abs(v) < yStep / 2 ? 0 : v);
  }
  for (double e = xStep == 1 ? 1 : xStep; e <= xHigh; e += xStep)
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">"
                       "{:g}</text>\n",
                       px(e), y0 + height + 16, e);
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch"
                     "</text>\n",
                     x0 + width / 2, y0 + height + 34);
  svg += fmt::format("<text x=\"{0}\" y=\"{1}\" text-anchor=\"middle\" "
                     "transform=\"rotate(-90 {0} {1})\">{2}</text>\n",
                     x0 - 44, y0 + height / 2, yLabel);

  int shown = 0;
  for (const Series &s : series)
    shown += !s.points.empty();
  // The legend on a white ground, above the lines it may cover.
  std::string legend = fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"104\" height=\"{}\" fill=\"white\" "
      "fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n",
      x0 + width - 116, y0 + 4, 16 * shown + 6);
  int legendRow = 0;
  for (const Series &s : series) {
    if (s.points.empty())
      continue;
    std::string points;
    for (auto [epoch, value] : s.points)
      points += fmt::format("{:.1f},{:.1f} ", px(epoch), py(value));
    points.pop_back();
    svg += fmt::format("<polyline class=\"{}\" fill=\"none\" stroke=\"{}\" "
                       "stroke-width=\"2\" points=\"{}\"/>\n",
                       s.name, s.color, points);
    for (auto [epoch, value] : s.points)
      svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" "
                         "fill=\"{}\"/>\n",
                         px(epoch), py(value), s.color);
    double ly = y0 + 20 + 16 * legendRow++;
    legend += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" "
                          "stroke=\"{3}\" stroke-width=\"2\"/>\n",
                          x0 + width - 110, ly - 4, x0 + width - 90, s.color);
    legend += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n",
                          x0 + width - 84, ly, s.name);
  }
  svg += legend + "</g>\n";
}

} // namespace

std::string curvesSvg(const std::string &title,
                      const std::vector<EpochRecord> &epochs) {
  Series loss[3] = {{"train", "#1f77b4", {}},
                    {"validation", "#ff7f0e", {}},
                    {"test", "#2ca02c", {}}};
  Series accuracy[3] = {{"train", "#1f77b4", {}},
                        {"validation", "#ff7f0e", {}},
                        {"test", "#2ca02c", {}}};
  auto add = [](Series &s, double epoch, std::optional<double> value) {
    if (value && std::isfinite(*value))
      s.points.emplace_back(epoch, *value);
  };
  for (const EpochRecord &r : epochs) {
    double e = double(r.epoch);
    add(loss[0], e, r.trainLoss);
    add(loss[1], e, r.valLoss);
    add(loss[2], e, r.testLoss);
    add(accuracy[0], e, r.trainAccuracy);
    add(accuracy[1], e, r.valAccuracy);
    add(accuracy[2], e, r.testAccuracy);
  }

  std::string svg =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
      "width=\"960\" height=\"380\" viewBox=\"0 0 960 380\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"960\" height=\"380\" fill=\"white\"/>\n";
  svg += fmt::format("<text x=\"480\" y=\"24\" text-anchor=\"middle\" "
                     "font-size=\"15\">{}</text>\n",
                     escape(title));
  chart(svg, 70, 50, "loss", {loss[0], loss[1], loss[2]}, true);
  chart(svg, 550, 50, "accuracy", {accuracy[0], accuracy[1], accuracy[2]},
        false);
  return svg + "</svg>\n";
}

} // namespace resnetrt
