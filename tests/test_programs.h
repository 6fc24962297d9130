// The path of a program that a test suite runs (the `hearth` command line, a
// child process, a plugin), by the name its CMakeLists.txt gave it with
// hearth_test_programs (tests/CMakeLists.txt). Each such name is also a macro,
// e.g. HEARTH_CLI, that expands to this call.
//
// The paths are compiled into one small generated source per suite, not into
// the compile flags of every test file: absolute paths in the flags would make
// a fresh clone (CI) miss ccache on every test file of the suite.
#pragma once

extern "C" const char* hearth_test_program(const char* name);
