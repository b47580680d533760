/* The test port's HAL: stdout only (MicroPython's virtual pins are in
 * extmod/, which the sdist lacks, so the port names its own pin type). */
#include <stddef.h>

#define mp_hal_pin_obj_t void *

static inline mp_uint_t mp_hal_ticks_ms(void) { return 0; }
static inline void mp_hal_set_interrupt_char(int c) { (void)c; }
