# What other projects use: namespaced targets (for add_subdirectory and find_package alike), the
# install rules, the CMake package and the pkg-config file.
include(CMakePackageConfigHelpers)

# The architectures register themselves from static objects in nif/*.cpp that nothing references,
# which a plain static link drops ("unknown architecture"). nifcpp::nif therefore links the nif
# archive whole; the archive itself is exported as nifcpp::nif_archive.
# (The namespaced name inside the generator expression is what the exported file needs; the
# alias makes it valid in this tree too.)
set_target_properties(nif PROPERTIES EXPORT_NAME nif_archive)
add_library(nifcpp::nif_archive ALIAS nif)
add_library(nif_whole INTERFACE)
target_link_libraries(nif_whole INTERFACE "$<LINK_LIBRARY:WHOLE_ARCHIVE,nifcpp::nif_archive>")
set_target_properties(nif_whole PROPERTIES EXPORT_NAME nif)
add_library(nifcpp::autodiff ALIAS autodiff)
add_library(nifcpp::nn ALIAS nn)
add_library(nifcpp::nif ALIAS nif_whole)
foreach(library autodiff nn nif)
  set_target_properties(${library} PROPERTIES OUTPUT_NAME nifcpp_${library})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${library}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/nifcpp/${library}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()

install(TARGETS nif_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS autodiff nn nif nif_whole EXPORT nifcppTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
set(NIF_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nifcpp)
install(EXPORT nifcppTargets NAMESPACE nifcpp:: DESTINATION ${NIF_CMAKE_PACKAGE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/nifcppConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/package/nifcppConfig.cmake INSTALL_DESTINATION ${NIF_CMAKE_PACKAGE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/nifcppConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/nifcppConfig.cmake ${PROJECT_BINARY_DIR}/package/nifcppConfigVersion.cmake
        DESTINATION ${NIF_CMAKE_PACKAGE_DIR})

# pkg-config: the same flags by hand (C++20, Eigen's pinned alignment, nif linked whole). The
# prefix is found relative to the .pc file, so `cmake --install --prefix DIR` works too.
file(RELATIVE_PATH NIF_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
get_target_property(NIF_PC_DEFINITIONS autodiff INTERFACE_COMPILE_DEFINITIONS)
list(TRANSFORM NIF_PC_DEFINITIONS PREPEND -D)
list(JOIN NIF_PC_DEFINITIONS " " NIF_PC_DEFINITIONS)
# An MPI build links OpenMPI's C library (its pkg-config name is ompi-c).
set(NIF_PC_MPI "")
if(NIF_WITH_MPI)
  set(NIF_PC_MPI " ompi-c")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/nifcpp.pc.in ${PROJECT_BINARY_DIR}/package/nifcpp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/nifcpp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
