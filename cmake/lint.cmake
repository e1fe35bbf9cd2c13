# House rules checked by CTest (label "lint"); docs/development.md explains each.
#
# clang-tidy runs over every unit with every warning an error; clean results are cached by
# the hash of the preprocessed unit (scripts/lint_tidy.py), so only what changed is checked
# again (cold: ~15 min on 2 cores; warm: about a minute of preprocessing).

# Every .cc/.h of the project matches .clang-format (clang-format 14, as Debian 12 ships).
add_test(NAME lint.clang_format
         COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint format
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.clang_format PROPERTIES LABELS lint TIMEOUT 120 SKIP_RETURN_CODE 77)

# A test source listed in il_test() but missing stops the configure (cmake/il_test.cmake).
add_test(NAME lint.missing_test_source_is_an_error
         COMMAND ${CMAKE_COMMAND} -S ${CMAKE_SOURCE_DIR}/test/lint/missing_test_source
                 -B ${CMAKE_CURRENT_BINARY_DIR}/lint/missing_test_source
                 -DIL_SOURCE_DIR=${CMAKE_SOURCE_DIR})
set_tests_properties(lint.missing_test_source_is_an_error PROPERTIES LABELS lint TIMEOUT 60
                     PASS_REGULAR_EXPRESSION "listed but missing.*not_written_yet_test\\.cc")

# The README's test command fails when a service did not start or a test skipped; a
# developer can opt out, loudly (scripts/test, checked here on a sandboxed copy).
add_test(NAME lint.scripts_test_requires_services
         COMMAND ${CMAKE_SOURCE_DIR}/test/lint/scripts_test_rules.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.scripts_test_requires_services PROPERTIES LABELS lint TIMEOUT 120)

# clang-tidy (.clang-tidy) over every unit of src/, fuzz/ and bench/ of this build tree.
add_test(NAME lint.clang_tidy
         COMMAND ${CMAKE_SOURCE_DIR}/scripts/lint tidy -p ${CMAKE_BINARY_DIR} --all
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.clang_tidy PROPERTIES LABELS lint TIMEOUT 2700 SKIP_RETURN_CODE 77)

# The cache behind it: a header change is a miss, findings are never cached.
add_test(NAME lint.clang_tidy_cache
         COMMAND ${CMAKE_SOURCE_DIR}/test/lint/tidy_cache_test.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(lint.clang_tidy_cache PROPERTIES LABELS lint TIMEOUT 300 SKIP_RETURN_CODE 77)
