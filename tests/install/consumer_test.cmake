# CTest script: installs the build tree BUILD into PREFIX, then configures, builds and runs the
# consumer project against it with plain flags; then builds the same program with the flags of
# the pkg-config file. Fails on the first step that fails, with that step's output.
# With PYTHON (an interpreter) and PYTHON_DIR (the module's folder under the prefix), also
# imports the installed Python module.
#   cmake -DBUILD=<build dir> -DWORK=<scratch dir> -DSOURCE=<consumer dir> -DCXX=<compiler>
#         [-DPYTHON=<python3> -DPYTHON_DIR=<dir>] -P consumer_test.cmake
function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("$ ${ARGN}\n${out}")
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK}/prefix)
file(REMOVE_RECURSE ${WORK})
step(${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
# No CMAKE_CXX_FLAGS: the compiler's defaults, whatever the library was built with.
step(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/consumer -G Ninja -DCMAKE_BUILD_TYPE=Release
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_FLAGS=)
step(${CMAKE_COMMAND} --build ${WORK}/consumer)
step(${WORK}/consumer/consumer)

file(GLOB pc_dir ${prefix}/lib*/pkgconfig ${prefix}/lib/*/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
step(pkg-config --cflags --libs nifcpp)
separate_arguments(pc_flags UNIX_COMMAND "${step_output}")
step(${CXX} -O2 ${SOURCE}/main.cpp -o ${WORK}/consumer_pkgconfig ${pc_flags})
step(${WORK}/consumer_pkgconfig)

if(PYTHON)
  step(${CMAKE_COMMAND} -E env PYTHONPATH=${prefix}/${PYTHON_DIR}
       ${PYTHON} -c "import nifcpp\nprint(nifcpp.__file__, nifcpp.traveling_wave().shape)")
endif()
