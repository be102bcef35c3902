# cmake -DBUILD_DIR= -DTARGET= -DHEADER= -DEXPECT=fail|ok -P probe.cmake: builds one layering probe
# (tests/layering/CMakeLists.txt). `fail` passes only when the compiler rejects the include because
# the header is not on the include path, not for any other error.
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
string(REGEX REPLACE "([][+.*()^$?|\\\\])" "\\\\\\1" header_re "${HEADER}")
if(EXPECT STREQUAL "ok")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${TARGET}: expected ${HEADER} to compile, build failed:\n${out}")
  endif()
elseif(EXPECT STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "${TARGET}: ${HEADER} compiled, but the layering forbids it")
  endif()
  if(NOT out MATCHES "${header_re}: No such file or directory")
    message(FATAL_ERROR "${TARGET}: build failed, but not because ${HEADER} is missing:\n${out}")
  endif()
  message(STATUS "${TARGET}: rejected as expected (${HEADER}: No such file or directory)")
else()
  message(FATAL_ERROR "probe.cmake: EXPECT must be ok or fail, not '${EXPECT}'")
endif()
