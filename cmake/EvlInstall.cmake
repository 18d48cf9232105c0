# install(): libraries, headers, an exported evl:: CMake package and pkg-config files.
install(TARGETS evl evl_static EXPORT evlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
if(EVL_BUILD_DUKTAPE)
  install(TARGETS evl_duktape EXPORT evlTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(TARGETS evljs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # The adapter's users need the Duktape headers it was configured with, not Debian's.
  install(FILES ${EVL_DUK_GEN}/duktape.h ${EVL_DUK_GEN}/duk_config.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/evl/duktape)
endif()

set(EVL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/evl)
install(EXPORT evlTargets NAMESPACE evl:: DESTINATION ${EVL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/evlConfig.cmake.in
  ${CMAKE_BINARY_DIR}/evlConfig.cmake INSTALL_DESTINATION ${EVL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/evlConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/evlConfig.cmake ${CMAKE_BINARY_DIR}/evlConfigVersion.cmake
        DESTINATION ${EVL_CMAKE_DIR})

foreach(pc evl evl-duktape)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
