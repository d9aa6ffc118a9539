# Writes a C++ source holding the dashboard's files as byte arrays, with their content types and
# ETags, for src/dashboard/assets.cpp. Run at build time (CMakeLists.txt, add_custom_command):
#   cmake -DSRC_DIR=<web/dashboard> -DOUT=<file.cpp> -DFILES="index.html;app.js;app.css" -P this
# Bytes rather than a raw string literal: the files may hold any character sequence, and
# compilers cap the length of one string literal (MSVC 16 KiB, GCC warns under -Wpedantic).
cmake_minimum_required(VERSION 3.25)
foreach(var SRC_DIR OUT FILES)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_assets.cmake: -D${var}=... is required")
  endif()
endforeach()

# 16 bytes per line keeps the generated file readable in a diff or a debugger.
set(line_pattern "")
foreach(i RANGE 15)
  string(APPEND line_pattern "0x[0-9a-f][0-9a-f],")
endforeach()

set(arrays "")
set(entries "")
set(index 0)
foreach(name IN LISTS FILES)
  set(path "${SRC_DIR}/${name}")
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "embed_assets.cmake: ${path} does not exist")
  endif()
  if(name MATCHES "\\.html$")
    set(type "text/html; charset=utf-8")
  elseif(name MATCHES "\\.js$")
    set(type "text/javascript; charset=utf-8")
  elseif(name MATCHES "\\.css$")
    set(type "text/css; charset=utf-8")
  elseif(name MATCHES "\\.svg$")
    set(type "image/svg+xml")
  else()
    message(FATAL_ERROR "embed_assets.cmake: no content type known for ${name}")
  endif()
  file(READ "${path}" hex HEX)
  file(SHA256 "${path}" digest)
  string(SUBSTRING "${digest}" 0 32 digest)
  string(LENGTH "${hex}" hex_len)
  math(EXPR size "${hex_len} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "(${line_pattern})" "\\1\n    " bytes "${bytes}")
  # A trailing NUL, outside the view: an empty file still makes a valid array.
  string(APPEND arrays "// ${name}: ${size} bytes\nconst unsigned char kAsset${index}[] = {\n    ${bytes}0x00};\n\n")
  string(APPEND entries "        {\"${name}\", {\"${type}\", view(kAsset${index}, ${size}), \"\\\"${digest}\\\"\"}},\n")
  math(EXPR index "${index} + 1")
endforeach()

set(content "// Generated from web/dashboard/ by cmake/embed_assets.cmake. Do not edit.
#include <cstddef>
#include <span>
#include <string_view>

#include \"dashboard/embedded.hpp\"

namespace cg::dashboard {
namespace {

std::string_view view(const unsigned char* bytes, std::size_t size) {
    return {reinterpret_cast<const char*>(bytes), size};
}

${arrays}}  // namespace

std::span<const NamedAsset> embedded_assets() {
    static const NamedAsset kAll[] = {
${entries}    };
    return kAll;
}

}  // namespace cg::dashboard
")
# Rewritten only when it changes, so an unchanged web file does not recompile anything.
file(CONFIGURE OUTPUT "${OUT}" CONTENT "${content}" @ONLY)
