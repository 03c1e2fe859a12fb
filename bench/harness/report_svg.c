/* report_svg.c — the run as an SVG picture, written directly (no gnuplot needed).
 *
 * Two panels over the same time axis: above, requests answered 200 per second (and
 * errors per second, if any); below, the latency percentiles of each second (p50,
 * p99, p99.9, max) on a logarithmic axis, because tails are orders of magnitude
 * above medians. A last interval shorter than MIN_DT (the tail end of the run) is
 * left out of the picture: its rate and percentiles rest on a handful of requests.
 * The JSON keeps it. Every number printed is formatted with "%.1f" in the C locale the
 * harness runs in, and all text is XML-escaped. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench/harness/report.h"

#define W 900.0
#define LEFT 80.0
#define RIGHT 160.0 /* room for the legend */
#define PLOT_W (W - LEFT - RIGHT)
#define TOP1 50.0
#define H1 180.0
#define TOP2 300.0
#define H2 220.0
#define H 570.0

#define MIN_DT 0.25

static bool plotted(const struct fx_load_point *p) { return p->dt_s >= MIN_DT; }

static double rate_of(const struct fx_load_point *p, uint64_t v) { return (double)v / p->dt_s; }

struct axis {
  double t_max; /* seconds on the x axis */
};

static void escape(FILE *f, const char *s) {
  for (; s && *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

static double x_of(const struct axis *a, double t) { return LEFT + PLOT_W * t / a->t_max; }

static void frame(FILE *f, const struct axis *a, double top, double h, const char *label) {
  fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
             "stroke=\"#888\"/>\n", LEFT, top, PLOT_W, h);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%s</text>\n", LEFT, top - 8, label);
  double step = a->t_max > 20 ? ceil(a->t_max / 10) : (a->t_max > 5 ? 2 : 1);
  for (double t = 0; t <= a->t_max + 1e-9; t += step)
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%g s</text>\n",
            x_of(a, t), top + h + 14, t);
}

static void throughput_panel(FILE *f, const struct axis *a, const struct fx_load_stats *st) {
  double peak = 1;
  for (size_t i = 0; i < st->n_series; i++)
    if (plotted(&st->series[i]) && rate_of(&st->series[i], st->series[i].completed) > peak)
      peak = rate_of(&st->series[i], st->series[i].completed);
  frame(f, a, TOP1, H1, "answered per second (200: blue, errors: red)");
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.0f/s</text>\n",
          LEFT - 4, TOP1 + 10, peak);
  fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">0</text>\n",
          LEFT - 4, TOP1 + H1);
  const char *colour[2] = {"#1f5fbf", "#c03020"};
  for (int k = 0; k < 2; k++) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour[k]);
    for (size_t i = 0; i < st->n_series; i++) {
      const struct fx_load_point *p = &st->series[i];
      if (!plotted(p)) continue;
      double v = rate_of(p, k == 0 ? p->ok : p->errors);
      fprintf(f, "%.1f,%.1f ", x_of(a, p->t_s), TOP1 + H1 - H1 * v / peak);
    }
    fputs("\"/>\n", f);
  }
}

static uint64_t pct_of(const struct fx_load_point *p, int k) {
  const uint64_t v[4] = {p->lat.p50, p->lat.p99, p->lat.p999, p->lat.max};
  return v[k];
}

static void latency_panel(FILE *f, const struct axis *a, const struct fx_load_stats *st) {
  static const char *const names[4] = {"p50", "p99", "p99.9", "max"};
  static const char *const colour[4] = {"#1f5fbf", "#2a9d4b", "#e08a00", "#c03020"};
  double lo = 1e300, hi = 0;
  for (size_t i = 0; i < st->n_series; i++)
    for (int k = 0; k < 4 && plotted(&st->series[i]); k++) {
      double v = (double)pct_of(&st->series[i], k) / 1e3;
      if (v > 0 && v < lo) lo = v;
      if (v > hi) hi = v;
    }
  frame(f, a, TOP2, H2, "latency of the 200s per second, µs (log scale)");
  if (hi <= 0) return;
  double d_lo = floor(log10(lo)), d_hi = ceil(log10(hi));
  if (d_hi <= d_lo) d_hi = d_lo + 1;
  for (double d = d_lo; d <= d_hi; d++) {
    double y = TOP2 + H2 - H2 * (d - d_lo) / (d_hi - d_lo);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT,
            y, LEFT + PLOT_W, y);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%g</text>\n",
            LEFT - 4, y + 3, pow(10, d));
  }
  for (int k = 0; k < 4; k++) {
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", colour[k]);
    for (size_t i = 0; i < st->n_series; i++) {
      double v = (double)pct_of(&st->series[i], k) / 1e3;
      if (v <= 0 || !plotted(&st->series[i])) continue; /* no 200s, or a stub */
      fprintf(f, "%.1f,%.1f ", x_of(a, st->series[i].t_s),
              TOP2 + H2 - H2 * (log10(v) - d_lo) / (d_hi - d_lo));
    }
    fputs("\"/>\n", f);
    double ly = TOP2 + 14 + 16 * k;
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">%s</text>\n",
            LEFT + PLOT_W + 12, ly, colour[k], names[k]);
  }
}

int fx_report_svg(FILE *f, const struct fx_report *r) {
  const struct fx_load_stats *st = r->load;
  struct axis a = {.t_max = 1};
  if (st->n_series && st->series[st->n_series - 1].t_s > a.t_max)
    a.t_max = ceil(st->series[st->n_series - 1].t_s);
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
             "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\">\n"
             "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
          W, H, W, H);
  fputs("<text x=\"80\" y=\"24\" font-size=\"15\">flexd-bench ", f);
  escape(f, r->workload);
  fputs(" → ", f);
  escape(f, r->target);
  fprintf(f, ": %.1f msg/s over %.1f s</text>\n", fx_report_throughput(r), fx_report_window_s(r));
  throughput_panel(f, &a, st);
  latency_panel(f, &a, st);
  fputs("</svg>\n", f);
  return ferror(f) ? -1 : 0;
}

int fx_report_write_svg(const struct fx_report *r, const char *path) {
  FILE *f = fopen(path, "w");
  if (f == NULL) return -1;
  int rc = fx_report_svg(f, r);
  if (fclose(f) != 0) rc = -1;
  return rc;
}
