// SPDX-License-Identifier: Apache-2.0
// The accelerator's TLM shell shared by both models (register socket checks, DMA helpers), the model
// factory, and the platform's memory and router.
#include <cstdio>
#include <cstring>

#include "rtl_configs.h"

using namespace sc_core;

namespace pbsc {

// ---- accel ----

accel::accel(sc_module_name name, const pb_hw_t &hw, sc_time period, uint64_t dma_base)
    : sc_module(name), regs("regs"), dma("dma"), irq("irq"), rst_n("rst_n"), hw_(hw), period_(period),
      dma_base_(dma_base) {
  regs.register_b_transport(this, &accel::regs_b_transport);
}

std::string accel::take_bus_error() {
  std::string e;
  e.swap(bus_error_);
  return e;
}

// One aligned 32-bit word inside the register window; anything else is answered with an error response
// (the RTL's register port has no byte enables and decodes 8 address bits).
void accel::regs_b_transport(tlm::tlm_generic_payload &tr, sc_time &delay) {
  uint64_t a = tr.get_address();
  if (a >= REG_WINDOW || (a & 3u)) {
    tr.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (tr.get_data_length() != 4 || tr.get_streaming_width() < 4) {
    tr.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  if (tr.get_byte_enable_ptr()) {
    tr.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  uint8_t *p = tr.get_data_ptr();
  if (tr.is_write()) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    reg_write((uint32_t)a, v, delay);
  } else if (tr.is_read()) {
    uint32_t v = reg_read((uint32_t)a, delay);
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
  }
  tr.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool accel::dma_transport(tlm::tlm_command cmd, uint32_t addr, uint8_t *buf, uint32_t len, sc_time &delay) {
  tlm::tlm_generic_payload tr;
  tr.set_command(cmd);
  tr.set_address(dma_base_ + addr);
  tr.set_data_ptr(buf);
  tr.set_data_length(len);
  tr.set_streaming_width(len);
  tr.set_byte_enable_ptr(nullptr);
  tr.set_dmi_allowed(false);
  tr.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  dma->b_transport(tr, delay);
  if (tr.is_response_error()) {
    if (bus_error_.empty()) {
      char m[160];
      snprintf(m, sizeof m, "%s: DMA %s of %u bytes at 0x%llx: %s", name(),
               cmd == tlm::TLM_READ_COMMAND ? "read" : "write", len, (unsigned long long)(dma_base_ + addr),
               tr.get_response_string().c_str());
      bus_error_ = m;
    }
    return false;
  }
  return true;
}

bool accel::dma_read(uint32_t addr, uint8_t *buf, uint32_t len, sc_time &delay) {
  return dma_transport(tlm::TLM_READ_COMMAND, addr, buf, len, delay);
}

bool accel::dma_write(uint32_t addr, const uint8_t *buf, uint32_t len, sc_time &delay) {
  return dma_transport(tlm::TLM_WRITE_COMMAND, addr, const_cast<uint8_t *>(buf), len, delay);
}

static std::string hw_text(const pb_hw_t &h) {
  char b[128];
  pb_hw_format(&h, b, sizeof b);
  return b;
}

std::string rtl_configs() {
  std::string s;
  for (int i = 0; rtl_configs_list[i]; i++) {
    if (i) s += ", ";
    s += std::string(rtl_configs_list[i]->name) + " (" + hw_text(rtl_configs_list[i]->hw) + ")";
  }
  return s.empty() ? "none" : s;
}

accel *make_accel(sc_module_name name, const pb_hw_t &hw, const std::string &model, const sc_time &period,
                  uint64_t dma_base, std::string *err) {
  if (period <= SC_ZERO_TIME) {
    if (err) *err = "the clock period must be positive";
    return nullptr;
  }
  if (model == "ref") {
    accel *a = make_accel_ref(name, hw, period, dma_base);
    if (!a && err) *err = "cannot allocate the reference model for " + hw_text(hw);
    return a;
  }
  if (model == "rtl") {
    for (int i = 0; rtl_configs_list[i]; i++) {
      const pb_hw_t &h = rtl_configs_list[i]->hw;
      if (pb_hw_equal(&h, &hw))
        return rtl_configs_list[i]->create(name, period, dma_base);
    }
    if (err) *err = "no RTL build for " + hw_text(hw) + "; built: " + rtl_configs();
    return nullptr;
  }
  if (err) *err = "unknown model '" + model + "' (ref or rtl)";
  return nullptr;
}

// ---- memory ----

memory::memory(sc_module_name name, uint64_t size, sc_time latency)
    : sc_module(name), socket("socket"), bytes_(size, 0), latency_(latency) {
  socket.register_b_transport(this, &memory::b_transport);
  socket.register_transport_dbg(this, &memory::transport_dbg);
}

bool memory::access(tlm::tlm_generic_payload &tr) {
  uint64_t a = tr.get_address();
  unsigned len = tr.get_data_length();
  if (a > bytes_.size() || len > bytes_.size() - a) {
    tr.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return false;
  }
  if (tr.get_byte_enable_ptr() || tr.get_streaming_width() < len) {
    tr.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return false;
  }
  if (tr.is_write())
    memcpy(&bytes_[a], tr.get_data_ptr(), len);
  else if (tr.is_read())
    memcpy(tr.get_data_ptr(), &bytes_[a], len);
  tr.set_response_status(tlm::TLM_OK_RESPONSE);
  return true;
}

void memory::b_transport(tlm::tlm_generic_payload &tr, sc_time &delay) {
  if (access(tr)) delay += latency_;
}

unsigned int memory::transport_dbg(tlm::tlm_generic_payload &tr) { return access(tr) ? tr.get_data_length() : 0; }

// ---- router ----

router::router(sc_module_name name) : sc_module(name), in("in"), out("out") {
  in.register_b_transport(this, &router::b_transport);
  in.register_transport_dbg(this, &router::transport_dbg);
}

void router::map(unsigned out_index, uint64_t base, uint64_t size) { map_.push_back({out_index, base, size}); }

const router::range *router::decode(uint64_t addr, unsigned len) const {
  for (const range &r : map_)
    if (addr >= r.base && addr - r.base < r.size && len <= r.size - (addr - r.base)) return &r;
  return nullptr;
}

void router::b_transport(int, tlm::tlm_generic_payload &tr, sc_time &delay) {
  uint64_t a = tr.get_address();
  const range *r = decode(a, tr.get_data_length());
  if (!r) {
    tr.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  tr.set_address(a - r->base);
  out[r->out]->b_transport(tr, delay);
  tr.set_address(a);
}

unsigned int router::transport_dbg(int, tlm::tlm_generic_payload &tr) {
  uint64_t a = tr.get_address();
  const range *r = decode(a, tr.get_data_length());
  if (!r) return 0;
  tr.set_address(a - r->base);
  unsigned int n = out[r->out]->transport_dbg(tr);
  tr.set_address(a);
  return n;
}

}  // namespace pbsc
