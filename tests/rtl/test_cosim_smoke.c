/* SPDX-License-Identifier: Apache-2.0 */
/* Smoke test: the README example and a HALT-only program in lock step on every configuration. */
#include "cosim_util.h"

int main(void) {
  check_init("test_cosim_smoke");
  for (int i = 0; pb_vsim_configs[i]; i++) {
    const pb_vsim_ops_t *ops = pb_vsim_configs[i];
    pb_cosim_result_t r;
    int rc = cosim_body(ops, "HALT\n", "halt", &r, NULL, NULL, NULL);
    CHECK(rc == 0 && r.state == PB_STATE_DONE, "%s: HALT only: rc %d state %d", ops->name, rc, r.state);
    printf("%s: HALT only: %llu cycles\n", ops->name, (unsigned long long)r.cycles);
    FILE *f = fopen("tests/asm/matmul2x2.pbs", "r");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    char *body = strstr(buf, "\n.data");
    if (ops->hw.n != 4) continue; /* the example's weight tile is 4x4 */
    uint8_t *host = NULL;
    rc = cosim_body(ops, body, "matmul2x2", &r, NULL, NULL, &host);
    CHECK(rc == 0 && r.state == PB_STATE_DONE, "%s: matmul2x2: rc %d state %d err %s pc %u", ops->name, rc, r.state,
          pb_isa_error_name(r.err), r.fault_pc);
    printf("%s: matmul2x2: %llu cycles, %llu writes compared\n", ops->name, (unsigned long long)r.cycles,
           (unsigned long long)r.writes_compared);
    free(host);
  }
  return check_done();
}
