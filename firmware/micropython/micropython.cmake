# mtsrnn as a MicroPython user C module, for CMake-based ports (esp32, rp2):
#
#   make -C ports/rp2 USER_C_MODULES=/abs/path/to/mtsrnn/firmware/micropython/micropython.cmake
#
# The kernel sources are the list in kernels/CMakeLists.txt, read from there
# so that there is one list.
get_filename_component(MTSRNN_ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
file(READ "${MTSRNN_ROOT}/kernels/CMakeLists.txt" _mtsrnn_kernel_cmake)
string(REGEX MATCH "set\\(MTSRNN_KERNEL_SOURCES([^)]*)\\)" _mtsrnn_match "${_mtsrnn_kernel_cmake}")
string(REGEX MATCHALL "src/[^ \t\r\n]+\\.c" _mtsrnn_sources "${CMAKE_MATCH_1}")
if(NOT _mtsrnn_sources)
  message(FATAL_ERROR "mtsrnn: no kernel sources found in ${MTSRNN_ROOT}/kernels/CMakeLists.txt")
endif()
list(TRANSFORM _mtsrnn_sources PREPEND "${MTSRNN_ROOT}/kernels/")

add_library(usermod_mtsrnn INTERFACE)
target_sources(usermod_mtsrnn INTERFACE
  ${CMAKE_CURRENT_LIST_DIR}/modmtsrnn.c
  ${_mtsrnn_sources}
)
target_include_directories(usermod_mtsrnn INTERFACE ${MTSRNN_ROOT}/kernels/include)
target_link_libraries(usermod INTERFACE usermod_mtsrnn)

# As in kernels/CMakeLists.txt: the tiled int8-w product is compiled without
# floating-point contraction. GCC fuses its multiply-adds into FMAs for some
# tile shapes and not others, which breaks the bit-identity of int8-w outputs
# across block sizes T. A source property is per directory: this file is
# include()d into the port's directory, where the firmware target that
# compiles usermod's sources is defined (rp2, esp32's main component).
set_property(SOURCE "${MTSRNN_ROOT}/kernels/src/gemm/gemm_i8_tiled.c"
  APPEND PROPERTY COMPILE_OPTIONS -ffp-contract=off)
