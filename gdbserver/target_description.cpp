#include "gdbserver/target_description.h"

#include <array>
#include <cstddef>
#include <cstring>

namespace rrx::gdb {

namespace {

// Feature indices.
constexpr uint8_t kCore = 0, kSse = 1, kLinux = 2, kSegments = 3, kAvx = 4;

// Type definitions as in gdb's features/i386/64bit-core.xml and 64bit-sse.xml.
constexpr const char* kCoreTypes =
    R"(<flags id="i386_eflags" size="4">
  <field name="CF" start="0" end="0"/>
  <field name="" start="1" end="1"/>
  <field name="PF" start="2" end="2"/>
  <field name="AF" start="4" end="4"/>
  <field name="ZF" start="6" end="6"/>
  <field name="SF" start="7" end="7"/>
  <field name="TF" start="8" end="8"/>
  <field name="IF" start="9" end="9"/>
  <field name="DF" start="10" end="10"/>
  <field name="OF" start="11" end="11"/>
  <field name="NT" start="14" end="14"/>
  <field name="RF" start="16" end="16"/>
  <field name="VM" start="17" end="17"/>
  <field name="AC" start="18" end="18"/>
  <field name="VIF" start="19" end="19"/>
  <field name="VIP" start="20" end="20"/>
  <field name="ID" start="21" end="21"/>
</flags>
)";

constexpr const char* kSseTypes =
    R"(<vector id="v8bf16" type="bfloat16" count="8"/>
<vector id="v8h" type="ieee_half" count="8"/>
<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
  <field name="v8_bfloat16" type="v8bf16"/>
  <field name="v8_half" type="v8h"/>
  <field name="v4_float" type="v4f"/>
  <field name="v2_double" type="v2d"/>
  <field name="v16_int8" type="v16i8"/>
  <field name="v8_int16" type="v8i16"/>
  <field name="v4_int32" type="v4i32"/>
  <field name="v2_int64" type="v2i64"/>
  <field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
  <field name="IE" start="0" end="0"/>
  <field name="DE" start="1" end="1"/>
  <field name="ZE" start="2" end="2"/>
  <field name="OE" start="3" end="3"/>
  <field name="UE" start="4" end="4"/>
  <field name="PE" start="5" end="5"/>
  <field name="DAZ" start="6" end="6"/>
  <field name="IM" start="7" end="7"/>
  <field name="DM" start="8" end="8"/>
  <field name="ZM" start="9" end="9"/>
  <field name="OM" start="10" end="10"/>
  <field name="UM" start="11" end="11"/>
  <field name="PM" start="12" end="12"/>
  <field name="FZ" start="15" end="15"/>
</flags>
)";

constexpr std::array<FeatureDesc, 5> kFeatures = {{
    {"org.gnu.gdb.i386.core", kCoreTypes},
    {"org.gnu.gdb.i386.sse", kSseTypes},
    {"org.gnu.gdb.i386.linux", ""},
    {"org.gnu.gdb.i386.segments", ""},
    {"org.gnu.gdb.i386.avx", ""},
}};

#define GPR(name, field, bits, type) \
  {name, bits, type, nullptr, kCore, RegSource::Gpr, offsetof(user_regs_struct, field), bits / 8}
#define GPR64(name, field) GPR(name, field, 64, "int64")
#define SEG(name, field) GPR(name, field, 32, "int32")
#define FX(name, field, size, bits, type, group, feature) \
  {name, bits, type, group, feature, RegSource::Fx, offsetof(user_fpregs_struct, field), size}
#define ST(i)                                                                                  \
  {"st" #i, 80, "i387_ext", nullptr, kCore, RegSource::Fx,                                     \
   static_cast<uint16_t>(offsetof(user_fpregs_struct, st_space) + 16 * (i)), 10}
#define XMM(i)                                                                                 \
  {"xmm" #i, 128, "vec128", nullptr, kSse, RegSource::Fx,                                      \
   static_cast<uint16_t>(offsetof(user_fpregs_struct, xmm_space) + 16 * (i)), 16}
#define YMMH(i) {"ymm" #i "h", 128, "uint128", nullptr, kAvx, RegSource::Ymmh, i, 16}

// fiseg/fioff and foseg/fooff: in the 64-bit fxsave layout the x87
// instruction and operand pointers are 64-bit (rip, rdp); like gdb's
// amd64_supply_fxsave, the offset registers get the low 32 bits and the
// segment registers the high 32 bits.
constexpr RegisterDesc kRegisters[] = {
    GPR64("rax", rax),
    GPR64("rbx", rbx),
    GPR64("rcx", rcx),
    GPR64("rdx", rdx),
    GPR64("rsi", rsi),
    GPR64("rdi", rdi),
    GPR("rbp", rbp, 64, "data_ptr"),
    GPR("rsp", rsp, 64, "data_ptr"),
    GPR64("r8", r8),
    GPR64("r9", r9),
    GPR64("r10", r10),
    GPR64("r11", r11),
    GPR64("r12", r12),
    GPR64("r13", r13),
    GPR64("r14", r14),
    GPR64("r15", r15),
    GPR("rip", rip, 64, "code_ptr"),
    GPR("eflags", eflags, 32, "i386_eflags"),
    SEG("cs", cs),
    SEG("ss", ss),
    SEG("ds", ds),
    SEG("es", es),
    SEG("fs", fs),
    SEG("gs", gs),
    ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7),
    FX("fctrl", cwd, 2, 32, "int", "float", kCore),
    FX("fstat", swd, 2, 32, "int", "float", kCore),
    {"ftag", 32, "int", "float", kCore, RegSource::FxTag, 0, 0},
    {"fiseg", 32, "int", "float", kCore, RegSource::Fx, offsetof(user_fpregs_struct, rip) + 4, 4},
    {"fioff", 32, "int", "float", kCore, RegSource::Fx, offsetof(user_fpregs_struct, rip), 4},
    {"foseg", 32, "int", "float", kCore, RegSource::Fx, offsetof(user_fpregs_struct, rdp) + 4, 4},
    {"fooff", 32, "int", "float", kCore, RegSource::Fx, offsetof(user_fpregs_struct, rdp), 4},
    {"fop", 32, "int", "float", kCore, RegSource::FxOp, 0, 0},
    XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
    XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
    FX("mxcsr", mxcsr, 4, 32, "i386_mxcsr", "vector", kSse),
    {"orig_rax", 64, "int", nullptr, kLinux, RegSource::Gpr, offsetof(user_regs_struct, orig_rax), 8},
    {"fs_base", 64, "int", nullptr, kSegments, RegSource::Gpr, offsetof(user_regs_struct, fs_base), 8},
    {"gs_base", 64, "int", nullptr, kSegments, RegSource::Gpr, offsetof(user_regs_struct, gs_base), 8},
    YMMH(0), YMMH(1), YMMH(2), YMMH(3), YMMH(4), YMMH(5), YMMH(6), YMMH(7),
    YMMH(8), YMMH(9), YMMH(10), YMMH(11), YMMH(12), YMMH(13), YMMH(14), YMMH(15),
};

#undef GPR
#undef GPR64
#undef SEG
#undef FX
#undef ST
#undef XMM
#undef YMMH

constexpr size_t kNumRegisters = sizeof(kRegisters) / sizeof(kRegisters[0]);

// Registers of one feature are contiguous and features appear in order:
// the XML lists registers in table order, so gdb's numbering (and the g
// packet layout, which follows it) is the table index.
constexpr bool features_contiguous() {
  for (size_t i = 1; i < kNumRegisters; ++i)
    if (kRegisters[i].feature < kRegisters[i - 1].feature) return false;
  return true;
}
static_assert(features_contiguous());
static_assert(kNumRegisters == 76);

// Classification of one x87 register, as in gdbserver's i387_ftag:
// 0 valid, 1 zero, 2 special.
int x87_tag_of(const uint8_t* raw) {
  const bool integer = raw[7] & 0x80;
  const unsigned exponent = ((raw[9] & 0x7fu) << 8) | raw[8];
  bool fraction_zero = (raw[7] & 0x7f) == 0;
  for (int i = 0; i < 7; ++i) fraction_zero = fraction_zero && raw[i] == 0;
  if (exponent == 0x7fff) return 2;
  if (exponent == 0) return (fraction_zero && !integer) ? 1 : 2;
  return integer ? 0 : 2;
}

std::string build_xml() {
  std::string xml =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n"
      "<architecture>i386:x86-64</architecture>\n"
      "<osabi>GNU/Linux</osabi>\n";
  for (size_t f = 0; f < kFeatures.size(); ++f) {
    xml += "<feature name=\"";
    xml += kFeatures[f].name;
    xml += "\">\n";
    xml += kFeatures[f].types;
    for (size_t r = 0; r < kNumRegisters; ++r) {
      const RegisterDesc& reg = kRegisters[r];
      if (reg.feature != f) continue;
      xml += "<reg name=\"";
      xml += reg.name;
      xml += "\" bitsize=\"" + std::to_string(reg.bitsize) + "\" type=\"";
      xml += reg.type;
      xml += "\" regnum=\"" + std::to_string(r) + "\"";
      if (reg.group) {
        xml += " group=\"";
        xml += reg.group;
        xml += "\"";
      }
      xml += "/>\n";
    }
    xml += "</feature>\n";
  }
  xml += "</target>\n";
  return xml;
}

}  // namespace

std::span<const RegisterDesc> amd64_registers() { return {kRegisters, kNumRegisters}; }
std::span<const FeatureDesc> target_features() { return {kFeatures.data(), kFeatures.size()}; }

int register_number(std::string_view name) {
  for (size_t i = 0; i < kNumRegisters; ++i)
    if (name == kRegisters[i].name) return static_cast<int>(i);
  return -1;
}

size_t register_size(int regno) {
  if (regno < 0 || static_cast<size_t>(regno) >= kNumRegisters) return 0;
  return kRegisters[regno].bitsize / 8;
}

size_t g_packet_bytes() {
  static const size_t total = [] {
    size_t n = 0;
    for (const auto& r : kRegisters) n += r.bitsize / 8;
    return n;
  }();
  return total;
}

uint16_t x87_full_tag(uint8_t abridged, uint16_t fstat, const uint8_t* st_space) {
  const int top = (fstat >> 11) & 7;
  uint16_t tag = 0;
  for (int phys = 7; phys >= 0; --phys) {
    int t = 3;  // empty
    if (abridged & (1u << phys)) {
      const int st = (phys + 8 - top) % 8;  // physical register -> stack slot
      t = x87_tag_of(st_space + 16 * st);
    }
    tag = static_cast<uint16_t>(tag | (t << (2 * phys)));
  }
  return tag;
}

bool read_register(const ThreadRegisters& regs, int regno, uint8_t* out) {
  const size_t n = register_size(regno);
  if (n == 0) return false;
  std::memset(out, 0, n);
  const RegisterDesc& reg = kRegisters[regno];
  const auto* gpr = reinterpret_cast<const uint8_t*>(&regs.gpr);
  const auto* fx = reinterpret_cast<const uint8_t*>(&regs.fpr);
  switch (reg.source) {
    case RegSource::Gpr:
      std::memcpy(out, gpr + reg.offset, reg.size);
      return true;
    case RegSource::Fx:
      std::memcpy(out, fx + reg.offset, reg.size);
      return true;
    case RegSource::FxTag: {
      uint32_t v = x87_full_tag(static_cast<uint8_t>(regs.fpr.ftw), regs.fpr.swd,
                                reinterpret_cast<const uint8_t*>(regs.fpr.st_space));
      std::memcpy(out, &v, 4);
      return true;
    }
    case RegSource::FxOp: {
      uint32_t v = regs.fpr.fop & 0x7ffu;
      std::memcpy(out, &v, 4);
      return true;
    }
    case RegSource::Ymmh:
      if (!regs.has_avx) return false;
      std::memcpy(out, regs.ymmh[reg.offset], 16);
      return true;
  }
  return false;
}

const std::string& target_xml() {
  static const std::string xml = build_xml();
  return xml;
}

}  // namespace rrx::gdb
