# il_test(name SOURCES... [LIBS...]) adds a gtest binary beside the code it tests, labelled
# "unit", linked with il_testing (src/testing: ASSERT_OK, the shared fakes, temp-dir and
# golden-file helpers). Every listed source must exist: a missing one is a configure error,
# because a warning here used to drop a whole test binary without anyone noticing (house rule,
# docs/development.md). Included by the top CMakeLists.txt and by the lint fixture that
# checks this rule (test/lint/missing_test_source).
#
# IL_UNIT_TESTS_PER_BINARY (ON in the sanitizer presets): one CTest test per binary instead of
# one per gtest case. A sanitized process takes about a second to start and exit (shadow
# memory, the leak check), so the ASan tree's 752 unit tests took 761 s one process each and
# 35 s one process per binary; a failure still names the gtest case in the output.
option(IL_UNIT_TESTS_PER_BINARY "Register each il_test binary as one CTest test" OFF)

function(il_test name)
  if(NOT IL_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  if(NOT T_SOURCES)
    message(FATAL_ERROR "il_test(${name}): no SOURCES")
  endif()
  set(missing)
  foreach(src ${T_SOURCES})
    if(NOT EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${src})
      list(APPEND missing ${src})
    endif()
  endforeach()
  if(missing)
    list(JOIN missing ", " missing)
    message(FATAL_ERROR
      "il_test(${name}): listed but missing in ${CMAKE_CURRENT_SOURCE_DIR}: ${missing}. "
      "Add the file(s) or take them out of the list: a test binary is never dropped silently.")
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} il_testing GTest::gtest GTest::gmock GTest::gtest_main)
  if(IL_UNIT_TESTS_PER_BINARY)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS unit)
  else()
    gtest_discover_tests(${name} PROPERTIES LABELS unit DISCOVERY_TIMEOUT 60)
  endif()
endfunction()
