// SPDX-License-Identifier: Apache-2.0
// Shared pieces of the DMA unit harnesses (tb_ld.cpp, tb_st.cpp): random numbers, byte access to
// Verilator's flat ports, the host-memory content, check categories with first-divergence reports.
#ifndef PB_TB_DMA_COMMON_H
#define PB_TB_DMA_COMMON_H

#include "verilated.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" {
#include "protobrain/isa.h"
#include "protobrain/requant.h"
#include "protobrain/timing.h"
}

#ifndef PB_N
#error "define PB_N (must equal the -GN given to Verilator)"
#endif

// ---- random numbers (xorshift64*) ----
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed = 1) : s(seed * 0x9E3779B97F4A7C15ull + 0x5eedull) {
    if (!s) s = 1;
  }
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  uint32_t u32() { return (uint32_t)(next() >> 32); }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }
  int64_t range(int64_t lo, int64_t hi) { return lo + (int64_t)below((uint64_t)(hi - lo) + 1); }  // [lo, hi]
  bool chance(unsigned pct) { return below(100) < pct; }
};

// ---- bytes <-> flat ports (byte i = bits [8i+7:8i]) ----
template <typename T> static void set_bytes(T &sig, const uint8_t *b, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
  sig = (T)v;
}
template <std::size_t W> static void set_bytes(VlWide<W> &sig, const uint8_t *b, int n) {
  for (std::size_t i = 0; i < W; i++) {
    uint32_t v = 0;
    for (int k = 3; k >= 0; k--) v = (v << 8) | (4 * (int)i + k < n ? b[4 * i + k] : 0);
    sig[i] = v;
  }
}
template <typename T> static void get_bytes(const T &sig, uint8_t *b, int n) {
  uint64_t v = (uint64_t)sig;
  for (int i = 0; i < n; i++, v >>= 8) b[i] = (uint8_t)v;
}
template <std::size_t W> static void get_bytes(const VlWide<W> &sig, uint8_t *b, int n) {
  for (int i = 0; i < n; i++) b[i] = (uint8_t)(sig[i / 4] >> (8 * (i % 4)));
}
static inline int32_t rd_i32(const uint8_t *p) {
  return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}
static inline void wr_i32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// ---- host memory content: a hash of the address (any 32-bit address), under an overlay of
// explicitly written bytes (CONFIG tables, hand cases) ----
struct HostMem {
  uint64_t salt = 0;
  std::unordered_map<uint32_t, uint8_t> overlay;
  uint8_t byte(uint32_t a) const {
    auto it = overlay.find(a);
    if (it != overlay.end()) return it->second;
    uint64_t x = ((uint64_t)a ^ salt) * 0x9E3779B97F4A7C15ull;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 32;
    return (uint8_t)x;
  }
};

// ---- check categories: each is one counted case; the first divergence of each is printed ----
struct Checks {
  std::string prefix;
  std::vector<std::string> names;
  std::vector<long> errs, checks;
  std::string ctx;  // where: set by the harness, or computed by ctx_fn when a failure is printed
  std::function<std::string()> ctx_fn;
  int add(const char *name) {
    names.push_back(name);
    errs.push_back(0);
    checks.push_back(0);
    return (int)names.size() - 1;
  }
  void ok(int cat) { checks[cat]++; }
  void fail(int cat, const char *fmt, ...) __attribute__((format(printf, 3, 4))) {
    checks[cat]++;
    if (errs[cat]++ > 0) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    std::string where = ctx_fn ? ctx_fn() : ctx;
    printf("FAIL %s: %s: %s\n     at %s\n", prefix.c_str(), names[cat].c_str(), buf, where.c_str());
  }
  // check: counts, and reports a mismatch of two integers
  bool eq(int cat, const char *what, uint64_t exp, uint64_t got) {
    if (exp == got) {
      checks[cat]++;
      return true;
    }
    fail(cat, "%s: expected %" PRIu64 " (0x%" PRIx64 "), got %" PRIu64 " (0x%" PRIx64 ")", what, exp, exp, got, got);
    return false;
  }
  void report(int *passed, int *failed) const {
    for (size_t i = 0; i < names.size(); i++) {
      if (errs[i] == 0) {
        (*passed)++;
        printf("ok   %s: %s (%ld checks)\n", prefix.c_str(), names[i].c_str(), checks[i]);
      } else {
        (*failed)++;
        printf("FAIL %s: %s: %ld of %ld checks failed\n", prefix.c_str(), names[i].c_str(), errs[i], checks[i]);
      }
    }
  }
};

static inline std::string hex_bytes(const uint8_t *b, int n) {  // most significant (last) byte first
  std::string s;
  char t[4];
  for (int i = n - 1; i >= 0; i--) {
    snprintf(t, sizeof t, "%02x", b[i]);
    s += t;
  }
  return s;
}

static inline std::string disasm(const pb_instr_t &in) {
  pb_word_t w;
  char err[160], buf[256];
  if (pb_encode(&in, &w, err, sizeof err) != 0) return std::string("(unencodable: ") + err + ")";
  pb_isa_format_word(&w, buf, sizeof buf);
  return buf;
}

// Set a named field of a decoded instruction.
static inline void set_field(pb_instr_t *in, const char *name, int64_t v) {
  const pb_instr_info_t *ii = pb_isa_by_opcode((unsigned)in->op);
  int i = pb_isa_field_index(ii, name);
  if (i < 0) {
    fprintf(stderr, "harness: %s has no field %s\n", ii->name, name);
    exit(2);
  }
  in->f[i] = v;
}

#endif
