# The device library's sources (firmware/common/mts_device_internal.h says
# what each holds), in one list for every build that compiles them:
# firmware/CMakeLists.txt (mtsrnn-device for Linux) and
# firmware/boards/CMakeLists.txt (the Cortex-M firmware).
set(MTSRNN_DEVICE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/mts_device.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_commands.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_format.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_io.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_mem.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_peer.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_run.c
  ${CMAKE_CURRENT_LIST_DIR}/mts_device_upload.c
)
