# Test helpers. Every test carries its module as a ctest LABEL so that
# `ctest -L infer` runs one module's tests. Tests get the paths they need as
# environment variables rather than hard-coded locations.
enable_testing()
set(WICAS_TEST_ENV
  "WICAS_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
  "WICAS_BUILD_DIR=${CMAKE_BINARY_DIR}"
  "WICAS_WASM_DIR=${CMAKE_BINARY_DIR}/wasm"
  "WICAS_COMETBFT=${WICAS_COMETBFT}"
  "WICAS_DEFAULT_MODEL=${WICAS_DEFAULT_MODEL}"
  "WICAS_DEFAULT_MODEL_SHA256=${WICAS_DEFAULT_MODEL_SHA256}"
  "WICAS_COSMWASM_TESTDATA=${WICAS_COSMWASM_TESTDATA}"
  # wasmtime may use signals; ASan must leave SIGSEGV to it.
  "ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=1"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")

# wicas_add_test(NAME LABEL SOURCES a.c b.c LIBS x y [TIMEOUT s] [DEPENDS tgt])
function(wicas_add_test NAME LABEL)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;LIBS;DEPENDS;ARGS" ${ARGN})
  add_executable(${NAME} ${A_SOURCES})
  target_link_libraries(${NAME} PRIVATE ${A_LIBS} PkgConfig::CMOCKA)
  target_include_directories(${NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_compile_definitions(${NAME} PRIVATE WICAS_APPHASH_DIR="${CMAKE_SOURCE_DIR}/tests/data/apphash")
  if(A_DEPENDS)
    add_dependencies(${NAME} ${A_DEPENDS})
  endif()
  add_test(NAME ${NAME} COMMAND ${NAME} ${A_ARGS})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 300)
  endif()
  set_tests_properties(${NAME} PROPERTIES LABELS "${LABEL}" TIMEOUT ${A_TIMEOUT}
                       ENVIRONMENT "${WICAS_TEST_ENV}")
endfunction()

# wicas_add_script_test(NAME LABEL COMMAND ...) for shell-driven integration tests.
function(wicas_add_script_test NAME LABEL)
  cmake_parse_arguments(A "" "TIMEOUT" "COMMAND" ${ARGN})
  add_test(NAME ${NAME} COMMAND ${A_COMMAND})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  set_tests_properties(${NAME} PROPERTIES LABELS "${LABEL}" TIMEOUT ${A_TIMEOUT}
                       ENVIRONMENT "${WICAS_TEST_ENV}")
endfunction()

# wicas_add_fuzz(NAME SOURCES ... [LIBS ...] [DEPENDS ...] [INCLUDES ...] [DEFINES ...])
# A libFuzzer target, built only with -DWICAS_FUZZ=ON and clang (the whole
# build then has ASan + UBSan and coverage hooks, see the top CMakeLists.txt).
# `make fuzz-smoke` / `make fuzz` run every target named in the Makefile's
# FUZZ_TARGETS.
function(wicas_add_fuzz NAME)
  if(NOT (WICAS_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang"))
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;LIBS;DEPENDS;INCLUDES;DEFINES" ${ARGN})
  add_executable(${NAME} ${A_SOURCES})
  target_include_directories(${NAME} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${A_INCLUDES})
  target_compile_options(${NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${NAME} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${NAME} PRIVATE ${A_LIBS})
  if(A_DEFINES)
    target_compile_definitions(${NAME} PRIVATE ${A_DEFINES})
  endif()
  if(A_DEPENDS)
    add_dependencies(${NAME} ${A_DEPENDS})
  endif()
endfunction()
