#include <stdio.h>
long ctor_sum(void);
int main(void) { printf("sum %ld\n", ctor_sum()); return 0; }
