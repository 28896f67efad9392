// A race window without syscalls for the racy test programs (race_*.c): a
// block of dependent additions (about a microsecond) whose every point has
// registers of its own while the loop around it runs: `acc` grows by `step`
// at each instruction, and `a`, `b` (the loop's values) sit in registers.
// Replay finds a preemption point inside it by address and registers in
// one stop per pass of the loop around it, so the loops stay short.
#pragma once

#define RACE_WINDOW(acc, step, other) \
  __asm__ volatile(".rept 2000\n\tadd %1, %0\n\t.endr" : "+r"(acc) : "r"(step), "r"(other))
