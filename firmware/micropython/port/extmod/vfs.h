/* Stub: py/runtime.c includes extmod/vfs.h only with MICROPY_VFS_ROM, which
 * the test port leaves off; the sdist has no extmod/. */
#ifndef MTSRNN_PORT_VFS_H
#define MTSRNN_PORT_VFS_H
#endif
