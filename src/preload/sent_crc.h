/* The CRC-32C of the bytes a buffered call sends (core/syscallbuf_abi.h,
 * RRX_RECORD_DATA_CRC): the same checksum as the recorder's digest of a
 * traced call's bytes (core/hash.h crc32c, core/output_digest.h). Freestanding
 * and header-only: the preload library uses it, and tests/unit checks it
 * against rrx::crc32c. With `insn` (the file facts' crc32_insn) it uses
 * SSE4.2's crc32 instruction (inline asm: the library is built with
 * -mgeneral-regs-only, and the instruction needs no vector register), else a
 * table it fills at first use. */
#ifndef RRX_PRELOAD_SENT_CRC_H
#define RRX_PRELOAD_SENT_CRC_H

#include <stdint.h>

#include "core/syscallbuf_abi.h"

/* The running (inverted) state over `len` bytes at `p`. */
static inline uint32_t rrx_crc32c_step(uint32_t state, const unsigned char* p, uint64_t len, int insn) {
  if (insn) {
    uint64_t c = state;
    for (; len >= 8; len -= 8, p += 8) {
      uint64_t v;
      __builtin_memcpy(&v, p, 8);
      __asm__("crc32q %1, %0" : "+r"(c) : "rm"(v));
    }
    uint32_t c32 = (uint32_t)c;
    for (; len > 0; --len, ++p) __asm__("crc32b %1, %0" : "+r"(c32) : "rm"(*p));
    return c32;
  }
  static uint32_t table[256];
  static int filled;
  if (!filled) {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      table[i] = c;
    }
    filled = 1;
  }
  for (; len > 0; --len, ++p) state = table[(state ^ *p) & 0xff] ^ (state >> 8);
  return state;
}

struct rrx_sent_iovec { /* struct iovec */
  const unsigned char* base;
  uint64_t len;
};

/* The CRC-32C of the first `len` bytes that a call of shape `sends`
 * (enum rrx_sends) with `args` sends; 0 in *ok when the iovecs hold fewer. */
static inline uint32_t rrx_sent_crc(uint8_t sends, const uint64_t args[6], uint64_t len, int insn, int* ok) {
  uint32_t state = 0xffffffffu;
  *ok = 1;
  if (sends == RRX_SENDS_BUF) {
    state = rrx_crc32c_step(state, (const unsigned char*)args[1], len, insn);
  } else if (sends == RRX_SENDS_IOVEC) {
    const struct rrx_sent_iovec* iov = (const struct rrx_sent_iovec*)args[1];
    for (uint64_t i = 0; len > 0 && i < args[2]; ++i) {
      uint64_t n = iov[i].len < len ? iov[i].len : len;
      state = rrx_crc32c_step(state, iov[i].base, n, insn);
      len -= n;
    }
    if (len > 0) *ok = 0;
  } else {
    *ok = 0;
  }
  return ~state;
}

#endif
