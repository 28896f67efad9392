# shellcheck shell=bash
# Where the bench scripts find rrx and the test programs (sourced; ROOT must
# be the repository root). Sets BUILD (RRX_BUILD_DIR, default build/, made
# absolute), RRX (default BUILD/bin/rrx) and PROGS (RRX_TEST_PROGRAMS,
# default BUILD/tests/programs).
BUILD=${RRX_BUILD_DIR:-$ROOT/build}
[[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
RRX=${RRX:-$BUILD/bin/rrx}
PROGS=${RRX_TEST_PROGRAMS:-$BUILD/tests/programs}
