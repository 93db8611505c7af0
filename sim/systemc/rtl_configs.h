// SPDX-License-Identifier: Apache-2.0
// The Verilated configurations of the rtl model linked into this binary: accel_rtl.cpp is compiled
// once per configuration (mk/systemc.mk) and defines one rtl_config; the Makefile generates the list.
#ifndef PB_SIM_SYSTEMC_RTL_CONFIGS_H
#define PB_SIM_SYSTEMC_RTL_CONFIGS_H

#include "pb_tlm.h"

namespace pbsc {

struct rtl_config {
  const char *name;  // e.g. "sim4"
  pb_hw_t hw;
  accel *(*create)(sc_core::sc_module_name name, const sc_core::sc_time &period, uint64_t dma_base);
};

// Defined by the generated build/systemc/configs.cpp; ends with nullptr.
extern const rtl_config *const rtl_configs_list[];

// Defined in accel_ref.cpp.
accel *make_accel_ref(sc_core::sc_module_name name, const pb_hw_t &hw, const sc_core::sc_time &period,
                      uint64_t dma_base);

}  // namespace pbsc

#endif
