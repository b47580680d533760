# mtsrnn as a MicroPython user C module, for make-based ports:
#
#   make -C ports/<port> USER_C_MODULES=/abs/path/to/mtsrnn/firmware
#
# (USER_C_MODULES is the directory that holds this module's directory; give it
# as an absolute path, so the kernel objects land inside the port's build
# directory.) The kernel sources are the list in kernels/CMakeLists.txt,
# read from there so that there is one list.
MTSRNN_MOD_DIR := $(USERMOD_DIR)
MTSRNN_ROOT := $(abspath $(MTSRNN_MOD_DIR)/../..)
MTSRNN_KERNEL_SOURCES := $(addprefix $(MTSRNN_ROOT)/kernels/, $(shell sed -n \
  '/^set(MTSRNN_KERNEL_SOURCES/,/^)/s/^ *\(src\/[^ ]*\.c\) *$$/\1/p' \
  $(MTSRNN_ROOT)/kernels/CMakeLists.txt))
ifeq ($(MTSRNN_KERNEL_SOURCES),)
$(error mtsrnn: no kernel sources found in $(MTSRNN_ROOT)/kernels/CMakeLists.txt)
endif

# The binding is scanned for qstrs; the kernels are plain C99 libraries.
SRC_USERMOD_C += $(MTSRNN_MOD_DIR)/modmtsrnn.c
SRC_USERMOD_LIB_C += $(MTSRNN_KERNEL_SOURCES)
CFLAGS_USERMOD += -I$(MTSRNN_ROOT)/kernels/include

# As in kernels/CMakeLists.txt: the tiled int8-w product is compiled without
# floating-point contraction. GCC fuses its multiply-adds into FMAs for some
# tile shapes and not others, which breaks the bit-identity of int8-w outputs
# across block sizes T (tests/c/test_quantized.c). The object's name is the
# one py/py.mk derives from the source path.
MTSRNN_NO_CONTRACT_O := $(addprefix $(BUILD)/, $(patsubst %.c,%.o, \
  $(patsubst $(USER_C_MODULES)/%.c,%.c,$(MTSRNN_ROOT)/kernels/src/gemm/gemm_i8_tiled.c)))
$(MTSRNN_NO_CONTRACT_O): CFLAGS += -ffp-contract=off
