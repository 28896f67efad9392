// The amd64 GNU/Linux target description gdb gets from qXfer:features:read,
// and the encoding of registers in g/p replies. One table drives both: the
// register numbers used in p packets and stop replies, the order and sizes
// of the g packet, and the XML.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "gdbserver/target.h"

namespace rrx::gdb {

enum class RegSource : uint8_t {
  Gpr,     // `size` bytes at `offset` in user_regs_struct, zero-extended
  Fx,      // `size` bytes at `offset` in user_fpregs_struct (fxsave), zero-extended
  FxTag,   // the full x87 tag word computed from fxsave's abridged tag
  FxOp,    // fop & 0x7ff
  Ymmh,    // upper half of ymm`offset`
};

struct RegisterDesc {
  const char* name;
  uint16_t bitsize;
  const char* type;
  const char* group;    // nullptr: gdb's default group
  uint8_t feature;      // index into target_features()
  RegSource source;
  uint16_t offset;
  uint8_t size;
};

struct FeatureDesc {
  const char* name;     // e.g. "org.gnu.gdb.i386.core"
  const char* types;    // <flags>/<vector>/<union> definitions used by its registers
};

std::span<const RegisterDesc> amd64_registers();
std::span<const FeatureDesc> target_features();

// gdb register number of `name` (also the index into amd64_registers()); -1 if none.
int register_number(std::string_view name);
// Size in bytes of register `regno` (bitsize / 8).
size_t register_size(int regno);
// Bytes in a g packet reply (before hex encoding).
size_t g_packet_bytes();

// Writes register `regno` of `regs` (little-endian, register_size bytes) to
// `out`. Returns false when the value is unavailable (AVX upper halves of a
// thread without AVX state); `out` is then zero-filled.
bool read_register(const ThreadRegisters& regs, int regno, uint8_t* out);

// Full x87 tag word (2 bits per physical register: 0 valid, 1 zero,
// 2 special, 3 empty) from the fxsave abridged tag byte, the status word
// (for TOP) and the st registers in stack order (16-byte slots).
uint16_t x87_full_tag(uint8_t abridged, uint16_t fstat, const uint8_t* st_space);

// The whole description as one document (target.xml), features inline.
const std::string& target_xml();

}  // namespace rrx::gdb
