# Prints a board's memory use and the device workspace after linking
# (cmake -P, called by firmware/boards/CMakeLists.txt):
#   -DBOARD=<name> -DELF=<file> -DOBJDUMP=<arm-none-eabi-objdump>
#   -DNM=<arm-none-eabi-nm> -DLINKER_SCRIPT=<the board's linker script>
#   -DREPORT=<file to write the line to>
# Every allocated section counts in the memory region of its address (VMA);
# a loaded section stored elsewhere (.data) also counts where it is stored
# (LMA). So flash = .text + .data's initial values, RAM = stack + .data +
# .bss, as arm-none-eabi-size reports them, split per MEMORY region.

# Regions from the MEMORY block of the linker script.
file(READ "${LINKER_SCRIPT}" script)
string(REGEX MATCHALL "[A-Z]+ *\\([a-z]+\\) *: *ORIGIN *= *0x[0-9A-Fa-f]+, *LENGTH *= *[0-9]+[KM]?"
       region_lines "${script}")
set(regions "")
foreach(line IN LISTS region_lines)
  string(REGEX MATCH "^([A-Z]+) *\\([a-z]+\\) *: *ORIGIN *= *(0x[0-9A-Fa-f]+), *LENGTH *= *([0-9]+)([KM]?)"
         _ "${line}")
  set(name ${CMAKE_MATCH_1})
  math(EXPR origin "${CMAKE_MATCH_2}")
  set(len ${CMAKE_MATCH_3})
  if(CMAKE_MATCH_4 STREQUAL "K")
    math(EXPR len "${len} * 1024")
  elseif(CMAKE_MATCH_4 STREQUAL "M")
    math(EXPR len "${len} * 1024 * 1024")
  endif()
  list(APPEND regions ${name})
  set(${name}_origin ${origin})
  set(${name}_len ${len})
  set(${name}_used 0)
endforeach()
string(REGEX MATCH "__stack_size *= *([0-9]+)K" _ "${script}")
math(EXPR stack "${CMAKE_MATCH_1} * 1024")

function(add_to_region address size)
  foreach(r IN LISTS regions)
    math(EXPR end "${${r}_origin} + ${${r}_len}")
    if(address GREATER_EQUAL ${r}_origin AND address LESS end)
      math(EXPR used "${${r}_used} + ${size}")
      set(${r}_used ${used} PARENT_SCOPE)
      return()
    endif()
  endforeach()
endfunction()

# Sections: "  0 .text  000591f8  08000000  08000000  00001000  2**6\n   CONTENTS, ALLOC, ..."
execute_process(COMMAND "${OBJDUMP}" -h "${ELF}" OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${OBJDUMP} -h failed on ${ELF}")
endif()
string(REGEX MATCHALL
       "[0-9]+ [^ \n]+ +[0-9a-f]+ +[0-9a-f]+ +[0-9a-f]+ +[0-9a-f]+ +2\\*\\*[0-9]+\n[^\n]*"
       entries "${sections}")
foreach(entry IN LISTS entries)
  string(REGEX MATCH "[0-9]+ ([^ \n]+) +([0-9a-f]+) +([0-9a-f]+) +([0-9a-f]+)" _ "${entry}")
  math(EXPR size "0x${CMAKE_MATCH_2}")
  math(EXPR vma "0x${CMAKE_MATCH_3}")
  math(EXPR lma "0x${CMAKE_MATCH_4}")
  if(NOT entry MATCHES "ALLOC" OR size EQUAL 0)
    continue()
  endif()
  add_to_region(${vma} ${size})
  if(entry MATCHES "LOAD" AND NOT vma EQUAL lma)
    add_to_region(${lma} ${size})
  endif()
endforeach()

# The workspace array's size from the symbol table.
execute_process(COMMAND "${NM}" -S "${ELF}" OUTPUT_VARIABLE nm_out)
string(REGEX MATCH "[0-9a-f]+ ([0-9a-f]+) [bBdD] mts_fw_workspace" _ "${nm_out}")
if(CMAKE_MATCH_1)
  math(EXPR workspace "0x${CMAKE_MATCH_1}" OUTPUT_FORMAT DECIMAL)
else()
  set(workspace "?")
endif()

set(parts "")
foreach(r IN LISTS regions)
  math(EXPR pct "(${${r}_used} * 1000 / ${${r}_len} + 5) / 10")
  string(TOLOWER "${r}" label)
  if(r STREQUAL "RAM")
    set(label RAM)
  endif()
  set(extra "")
  if(r STREQUAL "RAM")
    set(extra ", stack ${stack} included")
  endif()
  list(APPEND parts "${label} ${${r}_used} of ${${r}_len} bytes (${pct} %${extra})")
endforeach()
list(JOIN parts ", " parts)
set(line "firmware ${BOARD}: ${parts}, workspace ${workspace} bytes")
message(STATUS "${line}")
if(REPORT)
  file(WRITE "${REPORT}" "${line}\n")
endif()
