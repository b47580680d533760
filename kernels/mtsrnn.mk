# The kernels for a Make-based project (docs/embedding.md):
#
#   MTSRNN_DIR := path/to/mtsrnn
#   include $(MTSRNN_DIR)/kernels/mtsrnn.mk
#   SRCS   += $(MTSRNN_KERNEL_SRCS)
#   CFLAGS += $(MTSRNN_KERNEL_CFLAGS)
#   $(MTSRNN_FP_CONTRACT_OFF_OBJ): CFLAGS += -ffp-contract=off   (adapt to your object paths)
#
# The source list is the one in kernels/CMakeLists.txt (read from it, so it
# cannot drift). Flags: C99; -O2 (or -O3; never -O0: the Cortex-M products'
# inline assembly needs registers allocated); -ffp-contract=fast so GCC fuses
# the kernels' multiply-adds (ISO C mode turns contraction off). The one
# per-file flag: gemm_i8_tiled.c with -ffp-contract=off, so that the int8-w
# tiled product gives bit-identical results for every block size T (GCC
# would fuse some of its tile shapes and not others). Add your CPU flags
# (e.g. -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard); no
# -fPIC for a static firmware image.
MTSRNN_KERNELS_DIR := $(MTSRNN_DIR)/kernels
MTSRNN_KERNEL_SRCS := $(addprefix $(MTSRNN_KERNELS_DIR)/,$(shell sed -n \
  '/^set(MTSRNN_KERNEL_SOURCES/,/^)/s/^ *\(src\/[^ ]*\.c\) *$$/\1/p' \
  $(MTSRNN_KERNELS_DIR)/CMakeLists.txt))
ifeq ($(MTSRNN_KERNEL_SRCS),)
$(error mtsrnn.mk: no kernel sources found in $(MTSRNN_KERNELS_DIR)/CMakeLists.txt)
endif
MTSRNN_KERNEL_CFLAGS := -std=c99 -O2 -ffp-contract=fast -I$(MTSRNN_KERNELS_DIR)/include
MTSRNN_FP_CONTRACT_OFF_SRC := $(MTSRNN_KERNELS_DIR)/src/gemm/gemm_i8_tiled.c
MTSRNN_FP_CONTRACT_OFF_OBJ := $(MTSRNN_FP_CONTRACT_OFF_SRC:.c=.o)
