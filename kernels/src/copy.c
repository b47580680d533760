/* dst[i] = src[i] for i < n: the drivers' copies of input rows into the
 * block's scratch (sru.c, qrnn.c). A plain loop, so the kernels call no
 * C library function. */
#include "internal.h"

void mtsi_copy_floats(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}
