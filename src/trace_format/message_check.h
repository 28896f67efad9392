// A fast first check of a trace message, read as raw Cap'n Proto words
// before any reader is built on it (TraceReader::next, once per event).
// The full check (trace_reader.cpp's check_pointer, through capnp's
// readers) walks every pointer with a capnp accessor per pointer; most
// messages are small single-segment trees, and this walks those in a tight
// loop over the words instead, with the same rules:
//   every pointer lands inside the message, to nesting depth 64;
//   no capability pointer;
//   no list of more than 1024 zero-sized elements (void, or empty structs).
// It answers only "certainly fine" or "not sure": a message with more than
// one segment (far pointers), a pointer it does not accept, or more work than
// a tree of its size takes (pointers that share targets) is "not sure", and
// the full check decides it (and says what is wrong).
#pragma once

#include <capnp/common.h>

#include <cstddef>

namespace rrx::trace {

// `words`: one flat message (its segment table first), `count` words long.
bool message_certainly_fine(const capnp::word* words, size_t count);

}  // namespace rrx::trace
