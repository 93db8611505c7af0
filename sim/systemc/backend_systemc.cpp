// SPDX-License-Identifier: Apache-2.0
// The `systemc` backend: driver/backend.h on top of the virtual platform (platform.h).
//
// Each open backend owns its own SystemC simulation context, so several platforms (models,
// configurations) may be open at once in one process and each can be closed and opened again; every
// entry point makes its context current and restores the previous one. The driver's host image
// (b->host) is copied into the platform memory by the host thread at the start of every run and read
// back at its end (the whole of host_bytes), so the driver reads and writes it freely between runs.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "platform.h"

extern "C" {
#include "errfmt.h"
#include "pb_systemc.h"
}

using namespace sc_core;

namespace {

const uint64_t kDefaultWatchdog = 200000000ull;  // cycles, as the verilator backend's
const uint64_t kDefaultPeriodPs = 10000;         // 100 MHz

// Makes a simulation context current for the lifetime of the guard.
struct use_context {
  sc_simcontext *prev;
  explicit use_context(sc_simcontext *c) : prev(sc_curr_simcontext) {
    sc_curr_simcontext = sc_default_global_context = c;
  }
  ~use_context() { sc_curr_simcontext = sc_default_global_context = prev; }
};

struct impl {
  sc_simcontext *ctx = nullptr;
  pbsc::platform *plat = nullptr;
  std::vector<uint8_t> image;
  std::string model;
  uint64_t period_ps = 0, last_ps = 0, total_ps = 0, runs = 0;
  std::string broken;  // set when SystemC threw: the context cannot run again
};

// SystemC prints reports on stdout; the CLI's stdout may carry data, so they go to stderr.
void report_to_stderr(const sc_report &rep, const sc_actions &actions) {
  if (actions & SC_DISPLAY) fprintf(stderr, "%s\n", sc_report_compose_message(rep).c_str());
  sc_report_handler::default_handler(rep, actions & ~SC_DISPLAY);
}

void destroy(impl *x) {
  if (!x) return;
  if (x->ctx) {
    {
      use_context u(x->ctx);
      delete x->plat;
    }
    delete x->ctx;
  }
  delete x;
}

int sc_run(pb_backend_t *b, uint32_t prog_addr, uint32_t len, pb_run_status_t *st, char *err, size_t errlen) {
  impl *x = static_cast<impl *>(b->impl);
  memset(st, 0, sizeof *st);
  if (!x->broken.empty())
    return pb_fail(err, errlen, "systemc (%s): the simulation failed earlier: %s", x->model.c_str(), x->broken.c_str());
  pbsc::run_result r;
  {
    use_context u(x->ctx);
    try {
      r = x->plat->run(b->host, prog_addr, len);
    } catch (const sc_report &e) {
      x->broken = e.what();
    } catch (const std::exception &e) {
      x->broken = e.what();
    }
  }
  if (!x->broken.empty()) return pb_fail(err, errlen, "systemc (%s): %s", x->model.c_str(), x->broken.c_str());
  if (!r.ok) return pb_fail(err, errlen, "systemc (%s): %s", x->model.c_str(), r.error.c_str());
  if (r.state != 2 && r.state != 3)
    return pb_fail(err, errlen, "systemc (%s): interrupt with STATUS state %u (neither DONE nor ERROR)",
                   x->model.c_str(), r.state);
  x->last_ps = (r.end - r.start).value();  // the context's resolution is 1 ps
  x->total_ps += x->last_ps;
  x->runs++;
  st->done = r.state == 2;
  st->err = r.err;
  st->fault_pc = r.fault_pc;
  st->cnt.cycles = r.cycles;
  st->cnt.array_busy = r.array_busy;
  st->cnt.instrs = r.instrs;
  st->cnt.dma_bytes = r.dma_bytes;
  st->cnt.stalls = r.stalls;
  return 0;
}

void sc_close(pb_backend_t *b) {
  if (!b) return;
  destroy(static_cast<impl *>(b->impl));
  free(b);
}

}  // namespace

extern "C" int pb_systemc_info(const pb_backend_t *b, pb_systemc_info_t *info) {
  if (!b || b->close != sc_close) return -1;
  const impl *x = static_cast<const impl *>(b->impl);
  info->model = x->model.c_str();
  info->period_ps = x->period_ps;
  info->time_ps = x->last_ps;
  info->total_ps = x->total_ps;
  info->runs = x->runs;
  return 0;
}

extern "C" int pb_backend_open_systemc(const pb_hw_t *hw, const pb_backend_opts_t *opts, pb_backend_t **out, char *err,
                                       size_t errlen) {
  *out = nullptr;
  const char *model = opts && opts->model ? opts->model : "ref";
  if (strcmp(model, "ref") != 0 && strcmp(model, "rtl") != 0)
    return pb_fail(err, errlen, "systemc: unknown model '%s' (ref: the C reference model, rtl: the Verilated RTL)",
                   model);
  if (opts && (opts->cosim || opts->trace_path))
    return pb_fail(err, errlen, "systemc: co-simulation and traces are options of the verilator backend");
  uint64_t period_ps = kDefaultPeriodPs;
  if (const char *e = getenv("PB_SYSTEMC_PERIOD_PS")) {
    char *end;
    period_ps = strtoull(e, &end, 0);
    if (*end || !period_ps) return pb_fail(err, errlen, "systemc: PB_SYSTEMC_PERIOD_PS='%s' is not a period in ps", e);
  }
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_get_curr_simcontext();  // the library's default context exists before ours (static events refer to it)
  sc_report_handler::set_handler(report_to_stderr);

  impl *x = new impl;
  x->model = model;
  x->period_ps = period_ps;
  x->ctx = new sc_simcontext;
  std::string e;
  {
    use_context u(x->ctx);
    try {
      sc_time period = sc_time::from_value(period_ps);
      x->plat = new pbsc::platform("protobrain", *hw, model, period, opts && opts->max_cycles ? opts->max_cycles
                                                                                              : kDefaultWatchdog);
      if (!x->plat->ok())
        e = x->plat->error();
      else
        sc_start(SC_ZERO_TIME);  // elaborate and initialize: the platform waits for the first run
    } catch (const sc_report &r) {
      e = r.what();
    } catch (const std::exception &r) {
      e = r.what();
    }
  }
  if (e.empty()) {
    try {
      x->image.assign(hw->host_bytes, 0);
    } catch (const std::exception &) {
      e = "cannot allocate the host image";
    }
  }
  pb_backend_t *b = e.empty() ? static_cast<pb_backend_t *>(calloc(1, sizeof *b)) : nullptr;
  if (!b) {
    destroy(x);
    return pb_fail(err, errlen, "systemc (%s): %s", model, e.empty() ? "out of memory" : e.c_str());
  }
  b->name = "systemc";
  b->hw = *hw;
  b->host = x->image.data();
  b->run = sc_run;
  b->close = sc_close;
  b->impl = x;
  *out = b;
  return 0;
}

// libsystemc's main() calls sc_main; a program that links the backend has its own main(), so this
// definition only satisfies the linker (a SystemC program's own sc_main overrides it).
extern "C" __attribute__((weak)) int sc_main(int, char **) {
  fprintf(stderr, "sc_main: this program has no SystemC top level\n");
  return 1;
}
