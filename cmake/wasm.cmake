# Compiling C to wasm32 with Debian's clang-14 + lld-14 (wasm-ld).
#   wicas_add_contract(NAME SOURCES...)  CosmWasm contract: wasm32, no libc, no WASI
#   wicas_add_wasi_program(NAME SOURCES...) WASI preview1 program with wasi-libc
# Outputs land in ${CMAKE_BINARY_DIR}/wasm/NAME.wasm; target wasm_NAME builds it.
find_program(WICAS_WASM_CC NAMES clang-14 clang REQUIRED)
set(WICAS_WASM_DIR "${CMAKE_BINARY_DIR}/wasm")
file(MAKE_DIRECTORY "${WICAS_WASM_DIR}")

function(_wicas_wasm NAME KIND)
  cmake_parse_arguments(A "" "" "SOURCES;FLAGS;DEPENDS" ${ARGN})
  set(out "${WICAS_WASM_DIR}/${NAME}.wasm")
  set(srcs "")
  foreach(s ${A_SOURCES})
    get_filename_component(abs "${s}" ABSOLUTE)
    list(APPEND srcs "${abs}")
  endforeach()
  if(KIND STREQUAL "contract")
    set(flags --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--export-dynamic
              -Wl,--strip-all -mno-bulk-memory -mno-sign-ext)
  else()
    set(flags --target=wasm32-wasi -Wl,--strip-all)
  endif()
  add_custom_command(OUTPUT "${out}"
    COMMAND ${WICAS_WASM_CC} ${flags} -std=c17 -O2 -Wall -Wextra -Werror -ffp-contract=off
            -I${CMAKE_SOURCE_DIR}/contracts/sdk ${A_FLAGS} ${srcs} -o "${out}"
    DEPENDS ${srcs} ${A_DEPENDS}
    COMMENT "wasm32 ${KIND} ${NAME}.wasm" VERBATIM)
  add_custom_target(wasm_${NAME} ALL DEPENDS "${out}")
endfunction()

function(wicas_add_contract NAME)
  _wicas_wasm(${NAME} contract ${ARGN})
endfunction()
function(wicas_add_wasi_program NAME)
  _wicas_wasm(${NAME} wasi ${ARGN})
endfunction()
