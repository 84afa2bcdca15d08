# SPDX-License-Identifier: MIT
#
# Installing PCIem's userspace, as the Debian packages do (debian/rules
# builds the target pciem-dist, then installs):
#   libpciem.so.0        with PCIEM_SHARED (SONAME, only the public API
#                        exported: lib/libpciem.map)
#   libpciem.a           always, self-contained (the config space unit
#                        included)
#   headers              <prefix>/include/pciem/*.hpp, and the two C
#                        headers shared with the kernel module in
#                        <prefix>/include/pciem/kernel
#   CMake package        find_package(PCIem 0.1) -> PCIem::pciem
#   pciem.pc             pkg-config --cflags --libs pciem
#   programs             pciemctl and the device-model programs
# docs/install.md says how a model outside this tree uses them.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The SONAME's number. It is not the project's version: it changes only
# when a program built against the old library would break with the new
# one (docs/install.md, "Versions"), and with it the version node in
# lib/libpciem.map and the package name libpciem0.
set(PCIEM_SOVERSION 0)

if(PCIEM_SHARED)
    set_target_properties(pciem PROPERTIES
        VERSION ${PROJECT_VERSION}
        SOVERSION ${PCIEM_SOVERSION}
        LINK_DEPENDS ${PROJECT_SOURCE_DIR}/lib/libpciem.map)
    # --no-undefined: a symbol the library uses but links nothing for is an
    # error here, not in every program that loads it.
    target_link_options(pciem PRIVATE
        -Wl,--version-script=${PROJECT_SOURCE_DIR}/lib/libpciem.map -Wl,--no-undefined)
endif()

# The static archive an SDK user links: libpciem's objects and the config
# space unit's in one file (in-tree they are two libraries). Archiving
# reuses the objects already built.
add_library(pciem_sdk_static STATIC $<TARGET_OBJECTS:pciem> $<TARGET_OBJECTS:pciem_cfgspace>)
set_target_properties(pciem_sdk_static PROPERTIES
    OUTPUT_NAME pciem
    LINKER_LANGUAGE CXX
    ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/sdk)

if(PCIEM_SHARED)
    install(TARGETS pciem LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(TARGETS pciem_sdk_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/lib/include/pciem
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Outside the system's linux/ directory (linux-libc-dev's): the public
# headers include <linux/pciem.h> and <pciem_cfg.h>, found through the
# extra include directory the package config and pciem.pc add.
install(FILES ${PROJECT_SOURCE_DIR}/include/uapi/linux/pciem.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pciem/kernel/linux)
install(FILES ${PROJECT_SOURCE_DIR}/kernel/cfgspace/pciem_cfg.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/pciem/kernel)

# The package config is written by hand rather than exported: in-tree the
# library is three targets with build-tree paths, installed it is one
# file, and the config stays relocatable (a tree unpacked anywhere works
# with CMAKE_PREFIX_PATH).
set(pciem_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/PCIem)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/PCIemConfig.cmake.in
    ${CMAKE_BINARY_DIR}/sdk/PCIemConfig.cmake
    INSTALL_DESTINATION ${pciem_cmake_dir}
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR)
# 0.x: a new minor version may change the API, so 0.1 accepts 0.1.y only;
# from 1.0 on, the same major version.
if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(pciem_compat SameMinorVersion)
else()
    set(pciem_compat SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_BINARY_DIR}/sdk/PCIemConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY ${pciem_compat})
install(FILES ${CMAKE_BINARY_DIR}/sdk/PCIemConfig.cmake
              ${CMAKE_BINARY_DIR}/sdk/PCIemConfigVersion.cmake
        DESTINATION ${pciem_cmake_dir})

# Relative to ${prefix} where possible, so pkgconf --define-prefix works.
foreach(d LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
        set(pciem_pc_${d} "${CMAKE_INSTALL_${d}}")
    else()
        set(pciem_pc_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
    endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/pciem.pc.in ${CMAKE_BINARY_DIR}/sdk/pciem.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/sdk/pciem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Programs: the CLI and the device models a user runs (pciem-rtl-dma only
# where Verilator was found). Test programs stay in the tree.
set(pciem_programs)
foreach(t pciemctl pciem-testdev pciem-epf-test pciem-nvme pciem-rtl-dma pciem-fb pciem-bochs
          pciem-proxy)
    if(TARGET ${t})
        list(APPEND pciem_programs ${t})
    endif()
endforeach()
install(TARGETS ${pciem_programs} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Everything the installation needs and nothing else (no tests): what
# debian/rules builds, with CMAKE_SKIP_INSTALL_ALL_DEPENDENCY so that
# installing does not build the rest.
add_custom_target(pciem-dist)
add_dependencies(pciem-dist pciem pciem_sdk_static ${pciem_programs})
