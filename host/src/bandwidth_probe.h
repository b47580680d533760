/* The roofline's read-bandwidth probe (mtsrnn.bench.roofline through
 * _core.read_words): reads memory as fast as the blocked kernels' own loops
 * can, so that the measured bandwidth is a fair ceiling for them. */
#ifndef MTSRNN_HOST_BANDWIDTH_PROBE_H
#define MTSRNN_HOST_BANDWIDTH_PROBE_H

#include <stddef.h>

/* One pass over `lines` whole 64-byte lines at bytes; returns a checksum
 * (their sum as 64-bit words) so that no read can be dropped. */
unsigned long long mts_probe_read_lines(const unsigned char *bytes, size_t lines);

#endif /* MTSRNN_HOST_BANDWIDTH_PROBE_H */
