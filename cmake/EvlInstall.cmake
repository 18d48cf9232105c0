# install(): libraries, headers, an exported evl:: CMake package and pkg-config files.
#   evl::evl, evl::evl_static                     libevl (core)
#   evl::evl_duktape, evl::evl_duktape_static     libevl_duktape (the Duktape adapter)
#   evl::duktape_engine, evl::duktape_engine_static
#                                                 libevl_duktape_engine (Duktape itself, built
#                                                 with the configuration the adapter needs)
# The shared adapter links the shared engine and libevl; the static one the static ones.
set(EVL_INSTALL_TARGETS evl evl_static)
if(EVL_BUILD_DUKTAPE)
  list(APPEND EVL_INSTALL_TARGETS evl_duktape_engine evl_duktape_engine_static evl_duktape
       evl_duktape_shared)
endif()
install(TARGETS ${EVL_INSTALL_TARGETS} EXPORT evlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
if(EVL_BUILD_DUKTAPE)
  install(TARGETS evljs RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  # The adapter's users need the Duktape headers it was configured with, not Debian's.
  install(FILES ${EVL_DUK_GEN}/duktape.h ${EVL_DUK_GEN}/duk_config.h
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/evl/duktape)
  # For an application that builds its own Duktape: compiling this file with its duktape.c,
  # duktape.h and duk_config.h on the include path gives an engine the adapter can link with.
  install(FILES ${PROJECT_SOURCE_DIR}/src/duktape/engine/duk_engine.c
                ${PROJECT_SOURCE_DIR}/src/duktape/engine/duk_engine.h
          DESTINATION ${CMAKE_INSTALL_DATADIR}/evl/duktape-engine)
endif()

set(EVL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/evl)
install(EXPORT evlTargets NAMESPACE evl:: DESTINATION ${EVL_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/evlConfig.cmake.in
  ${CMAKE_BINARY_DIR}/evlConfig.cmake INSTALL_DESTINATION ${EVL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/evlConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/evlConfig.cmake ${CMAKE_BINARY_DIR}/evlConfigVersion.cmake
        DESTINATION ${EVL_CMAKE_DIR})

set(EVL_PC_FILES evl)
if(EVL_BUILD_DUKTAPE)
  list(APPEND EVL_PC_FILES evl-duktape evl-duktape-engine)
endif()
foreach(pc IN LISTS EVL_PC_FILES)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${CMAKE_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
