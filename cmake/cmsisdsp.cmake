# CMSIS-DSP's per-step matrix-vector product, arm_mat_vec_mult_f32, the peer
# baseline the benchmarks compare the blocked kernels against. It is compiled
# from the pinned PyPI `cmsisdsp` source distribution, never vendored:
#
#   ci/fetch-sdist.sh cmsisdsp 1.10.3 <sha256>   -> build/deps/cmsisdsp-1.10.3
#
# MTSRNN_CMSISDSP_DIR points at the unpacked sdist (default: that build/deps
# directory). MTSRNN_CMSISDSP_FOUND says whether it is there; callers build
# the baseline only then and report it as unavailable otherwise.
#
# mtsrnn_add_cmsisdsp_matvec(<name> [Q7] [DEFINITIONS d...] [INCLUDES dir...]):
#   an OBJECT library <name> with arm_mat_vec_mult_f32.c and arm_mat_init_f32.c;
#   with Q7 also arm_mat_vec_mult_q7.c and arm_mat_init_q7.c (the firmware's
#   bench-only int8 peer, firmware/boards/cortex-m/cmsis_baseline.c).
#   Host builds pass DEFINITIONS __GNUC_PYTHON__; Cortex-M builds pass their
#   core's ARM_MATH_* definitions and INCLUDES a directory holding a
#   cmsis_compiler.h shim of the project's own (the sdist lacks CMSIS-Core).
include_guard(GLOBAL)

set(MTSRNN_CMSISDSP_DIR "${CMAKE_CURRENT_LIST_DIR}/../build/deps/cmsisdsp-1.10.3"
    CACHE PATH "The unpacked cmsisdsp 1.10.3 sdist (ci/fetch-sdist.sh)")
if(EXISTS "${MTSRNN_CMSISDSP_DIR}/Source/MatrixFunctions/arm_mat_vec_mult_f32.c")
  set(MTSRNN_CMSISDSP_FOUND TRUE)
else()
  set(MTSRNN_CMSISDSP_FOUND FALSE)
endif()

function(mtsrnn_add_cmsisdsp_matvec name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "Q7" "" "DEFINITIONS;INCLUDES")
  if(NOT MTSRNN_CMSISDSP_FOUND)
    message(FATAL_ERROR "CMSIS-DSP sources not found at MTSRNN_CMSISDSP_DIR=${MTSRNN_CMSISDSP_DIR}; "
                        "run ci/fetch-sdist.sh cmsisdsp 1.10.3 <sha256> (see ci/setup.sh)")
  endif()
  add_library(${name} OBJECT
    ${MTSRNN_CMSISDSP_DIR}/Source/MatrixFunctions/arm_mat_vec_mult_f32.c
    ${MTSRNN_CMSISDSP_DIR}/Source/MatrixFunctions/arm_mat_init_f32.c)
  if(arg_Q7)
    target_sources(${name} PRIVATE
      ${MTSRNN_CMSISDSP_DIR}/Source/MatrixFunctions/arm_mat_vec_mult_q7.c
      ${MTSRNN_CMSISDSP_DIR}/Source/MatrixFunctions/arm_mat_init_q7.c)
  endif()
  # Third-party code: its own warnings are not ours to fix (no -Werror here).
  target_include_directories(${name} SYSTEM PUBLIC
    ${arg_INCLUDES} ${MTSRNN_CMSISDSP_DIR}/Include ${MTSRNN_CMSISDSP_DIR}/PrivateInclude)
  target_compile_definitions(${name} PUBLIC ${arg_DEFINITIONS})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
