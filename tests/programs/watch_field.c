// Writes to the fields of a struct, one statement each. For
// tests/gdb/watch_field.sh: `watch -l s.count` over next, stepi,
// reverse-stepi and reverse-next, compared with what gdbserver reports.
#include <stdio.h>

struct sample {
  int id;
  long count;
  int flags;
};

struct sample s;

int main(void) {
  s.id = 7;
  s.count = 5;
  s.count += 10;
  s.flags = 3;
  printf("%d %ld %d\n", s.id, s.count, s.flags);
  return s.count == 15 ? 0 : 1;
}
